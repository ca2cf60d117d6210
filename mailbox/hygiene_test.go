package mailbox_test

import (
	"net/mail"
	"net/textproto"
	"strings"
	"testing"

	gotextproto "github.com/emersion/go-message/textproto"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// header builds a MIMEHeader from "Name: value" lines; a line may repeat a
// name, and "Name:" alone is an empty field.
func header(lines ...string) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		h.Add(name, strings.TrimSpace(value))
	}
	return h
}

func TestClassify(t *testing.T) {
	t.Parallel()
	ours := mailbox.ClassifyOptions{Ours: []string{"support@recoverydesk.test"}}
	person := "From: Ada Lovelace <ada@example.org>"
	tests := []struct {
		name     string
		h        textproto.MIMEHeader
		envFrom  string
		want     mailbox.Class // Reason is checked for being non-empty only
		reasonIn string
	}{
		{name: "plain person", h: header(person, "Return-Path: <ada@example.org>"), envFrom: "ada@example.org"},
		{name: "auto-submitted no", h: header(person, "Auto-Submitted: no")},
		{name: "auto-replied", h: header(person, "Auto-Submitted: auto-replied"), want: mailbox.Class{AutoSubmitted: true}, reasonIn: "auto-replied"},
		{name: "auto-generated with params", h: header(person, "Auto-Submitted: Auto-Generated; owner-email=\"x@example.org\""), want: mailbox.Class{AutoSubmitted: true}, reasonIn: "auto-generated"},
		{name: "auto-notified", h: header(person, "Auto-Submitted: auto-notified"), want: mailbox.Class{AutoSubmitted: true}},
		{name: "precedence bulk", h: header(person, "Precedence: bulk"), want: mailbox.Class{Bulk: true}},
		{name: "precedence junk", h: header(person, "Precedence: JUNK"), want: mailbox.Class{Bulk: true}},
		{name: "precedence list", h: header(person, "Precedence: list"), want: mailbox.Class{List: true}},
		{name: "precedence auto_reply", h: header(person, "Precedence: auto_reply"), want: mailbox.Class{AutoSubmitted: true}},
		{name: "precedence first-class", h: header(person, "Precedence: first-class")},
		{name: "x-autoreply", h: header(person, "X-Autoreply: yes"), want: mailbox.Class{AutoSubmitted: true}, reasonIn: "X-Autoreply"},
		{name: "x-autorespond", h: header(person, "X-Autorespond: Out of office"), want: mailbox.Class{AutoSubmitted: true}},
		{name: "exchange suppress oof", h: header(person, "X-Auto-Response-Suppress: DR, OOF, AutoReply"), want: mailbox.Class{AutoSubmitted: true}},
		{name: "exchange suppress all", h: header(person, "X-Auto-Response-Suppress: All"), want: mailbox.Class{AutoSubmitted: true}},
		{name: "exchange suppress none", h: header(person, "X-Auto-Response-Suppress: None")},
		{name: "x-loop ours", h: header(person, "X-Loop: Support@RecoveryDesk.test"), want: mailbox.Class{Loop: true}},
		{name: "x-loop second field ours", h: header(person, "X-Loop: lists@example.org", "X-Loop: support@recoverydesk.test"), want: mailbox.Class{Loop: true}},
		{name: "x-loop someone else", h: header(person, "X-Loop: helpdesk@example.org")},
		{name: "list-id", h: header(person, "List-Id: Announcements <announce.example.org>"), want: mailbox.Class{List: true}},
		{name: "list-unsubscribe", h: header(person, "List-Unsubscribe: <mailto:leave@example.org>"), want: mailbox.Class{List: true}},
		{name: "list-post", h: header(person, "List-Post: <mailto:dev@lists.example.org>"), want: mailbox.Class{List: true}},
		{name: "return-path null", h: header(person, "Return-Path: <>"), want: mailbox.Class{NullSender: true}},
		{name: "return-path null spaced", h: header(person, "Return-Path: < >"), want: mailbox.Class{NullSender: true}},
		{name: "return-path empty", h: header(person, "Return-Path:"), want: mailbox.Class{NullSender: true}},
		{name: "envelope null", h: header(person), envFrom: "<>", want: mailbox.Class{NullSender: true}},
		{name: "mailer-daemon", h: header("From: Mail Delivery System <MAILER-DAEMON@mx.example.org>"), want: mailbox.Class{MailerDaemon: true}, reasonIn: "MAILER-DAEMON"},
		{name: "bare mailer-daemon", h: header("From: MAILER-DAEMON (Mail Delivery Subsystem)"), want: mailbox.Class{MailerDaemon: true}},
		{name: "postmaster", h: header("From: postmaster@example.net"), want: mailbox.Class{MailerDaemon: true}},
		{name: "noreply", h: header("From: GitHub <noreply@github.com>"), want: mailbox.Class{MailerDaemon: true}},
		{name: "no-reply", h: header("From: \"Shop\" <no-reply@shop.example>"), want: mailbox.Class{MailerDaemon: true}},
		{name: "do_not_reply", h: header("From: Do_Not_Reply@bank.example"), want: mailbox.Class{MailerDaemon: true}},
		{name: "noreply with tag", h: header("From: noreply+notifications@example.com"), want: mailbox.Class{MailerDaemon: true}},
		{name: "envelope mailer-daemon", h: header(person), envFrom: "mailer-daemon@relay.example", want: mailbox.Class{MailerDaemon: true}},
		{name: "norah is a person", h: header("From: Norah <norah@example.org>")},
		{name: "dsn report", h: header(person, "Content-Type: multipart/report; report-type=delivery-status; boundary=\"x\""), want: mailbox.Class{Bounce: true}},
		{name: "report without type", h: header(person, "Content-Type: multipart/report; boundary=x"), want: mailbox.Class{Bounce: true}},
		{name: "read receipt", h: header(person, "Content-Type: multipart/report; report-type=disposition-notification; boundary=x"), want: mailbox.Class{AutoSubmitted: true}},
		{name: "exim failed recipients", h: header(person, "X-Failed-Recipients: bob@example.net"), want: mailbox.Class{Bounce: true}},
		{name: "multipart mixed", h: header(person, "Content-Type: multipart/mixed; boundary=x")},
		{
			name: "typical bounce sets several flags",
			h:    header("From: MAILER-DAEMON@mx.example.org", "Return-Path: <>", "Auto-Submitted: auto-replied", "Content-Type: multipart/report; report-type=delivery-status; boundary=b"),
			want: mailbox.Class{AutoSubmitted: true, NullSender: true, MailerDaemon: true, Bounce: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mailbox.Classify(tt.h, tt.envFrom, ours)
			reason := got.Reason
			got.Reason = ""
			if got != tt.want {
				t.Errorf("Classify = %+v (reason %q), want %+v", got, reason, tt.want)
			}
			wantNoReply := tt.want != (mailbox.Class{})
			if got.NoAutoReply() != wantNoReply {
				t.Errorf("NoAutoReply = %v, want %v", got.NoAutoReply(), wantNoReply)
			}
			if wantNoReply && reason == "" {
				t.Errorf("Reason is empty for a flagged message")
			}
			if !wantNoReply && reason != "" {
				t.Errorf("Reason = %q for an ordinary message", reason)
			}
			if tt.reasonIn != "" && !strings.Contains(reason, tt.reasonIn) {
				t.Errorf("Reason = %q, want it to mention %q", reason, tt.reasonIn)
			}
		})
	}
}

// TestClassifyHeaderTypes checks that the header types the parser may hand
// over all work, including one with only Get.
func TestClassifyHeaderTypes(t *testing.T) {
	t.Parallel()
	var gh gotextproto.Header
	gh.Add("From", "ada@example.org")
	gh.Add("Precedence", "bulk")
	if c := mailbox.Classify(&gh, "", mailbox.ClassifyOptions{}); !c.Bulk {
		t.Errorf("go-message header: Classify = %+v, want Bulk", c)
	}
	mh := mail.Header{"From": {"ada@example.org"}, "List-Id": {"<x.example.org>"}}
	if c := mailbox.Classify(mh, "", mailbox.ClassifyOptions{}); !c.List {
		t.Errorf("net/mail header: Classify = %+v, want List", c)
	}
}

func TestAutoReplyAllowed(t *testing.T) {
	t.Parallel()
	for n := 0; n <= 7; n++ {
		want := n < 5
		if got := mailbox.AutoReplyAllowed(n); got != want {
			t.Errorf("AutoReplyAllowed(%d) = %v, want %v", n, got, want)
		}
	}
	if mailbox.AutoReplyHeader != "Auto-Submitted" || mailbox.AutoReplyValue != "auto-replied" {
		t.Errorf("auto-reply header = %s: %s", mailbox.AutoReplyHeader, mailbox.AutoReplyValue)
	}
}
