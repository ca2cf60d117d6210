package seed

import (
	"context"
	"fmt"
	"strings"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/caseparticipant"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

// Fixed references of the demo cases (characters after "RD-" from the
// reference alphabet; insertCases checks them with desk.NormalizeReference).
const (
	erinCaseReference    = "RD-ERN7K2"
	generalCaseReference = "RD-Q7HM4W"
)

// demoSupportAddress is config's default SUPPORT_ADDRESS, which dev uses.
const demoSupportAddress = "support@recoverydesk.test"

// erinExplanation is what erin wrote on the recovery form.
const erinExplanation = `Hi, my phone was stolen last week and the authenticator app went with it.
I have used up all of my recovery codes over the years (I kept using them
instead of re-enrolling, my mistake). I still know my password and I can
read mail at erin@example.org.

I maintain tinyjson and pathwalk, and I help with acme-http and
acme-metrics in the acme-labs organization. My most recent upload was
acme-http 1.0.7 in August. Could you reset my two-factor authentication so
I can enrol a new phone?

Thanks, Erin`

// insertCases creates erin's open recovery case and a general question
// from someone without an account, already answered by sam.
func insertCases(ctx context.Context, client *ent.Client, users demoUsers) error {
	for _, ref := range []string{erinCaseReference, generalCaseReference} {
		if canon, ok := desk.NormalizeReference(ref); !ok || canon != ref {
			return fmt.Errorf("seed: demo case reference %q is not canonical", ref)
		}
	}
	if err := insertErinCase(ctx, client, users); err != nil {
		return fmt.Errorf("seed: case %s: %w", erinCaseReference, err)
	}
	if err := insertGeneralCase(ctx, client, users); err != nil {
		return fmt.Errorf("seed: case %s: %w", generalCaseReference, err)
	}
	return insertCannedReplies(ctx, client, users)
}

// demoCannedReplies are the desk's canned replies, written by ada; the
// placeholders are filled in per case when a reply is sent.
var demoCannedReplies = []struct{ name, body string }{
	{"Need more information", `Hello {{requester_name}},

thank you for your request {{reference}}. Before we can go on we need a little
more information. Please answer the questions on your case page, or reply to
this email:

  {{status_link}}

- roughly when did you create the account?
- which email addresses were on the account before?
- which second factor did you use last (authenticator app, security key)?`},
	{"Check your account's mailbox", `Hello {{requester_name}},

we sent a confirmation link to the email addresses on the account. Please open
it and answer the question there; it is valid for 72 hours. You can follow
your case {{reference}} at {{status_link}}.`},
}

func insertCannedReplies(ctx context.Context, client *ent.Client, users demoUsers) error {
	for _, r := range demoCannedReplies {
		if err := client.CannedReply.Create().
			SetName(r.name).
			SetBody(r.body).
			SetCreatedByID(users["ada"]).
			SetCreatedAt(anchor()).
			SetUpdatedAt(anchor()).
			Exec(ctx); err != nil {
			return fmt.Errorf("seed: canned reply %q: %w", r.name, err)
		}
	}
	return nil
}

func insertErinCase(ctx context.Context, client *ent.Client, users demoUsers) error {
	opened := at(2026, 10, 30, 9, 12)
	address := "erin@example.org"
	subject := "Locked out: phone stolen, recovery codes used up"
	erinDue := desk.DefaultSLA.DeadlinesFor(supportcase.KindRecovery, opened)
	c, err := client.SupportCase.Create().
		SetReference(erinCaseReference).
		SetKind(supportcase.KindRecovery).
		SetStatus(supportcase.StatusNew).
		SetSubject(subject).
		SetRequesterName("Erin Okafor").
		SetRequesterEmail(address).
		SetRequesterEmailNormalized(strings.ToLower(address)).
		SetClaimedUsername("erin").
		SetAccountID(users["erin"]).
		SetIntake(types.CaseIntake{
			HasPassword:          true,
			HasEmailAccess:       true,
			HasRecoveryCodes:     false,
			HasDevice:            false,
			Explanation:          erinExplanation,
			ClaimedProjects:      []string{"tinyjson", "pathwalk", "acme-http", "acme-metrics"},
			ClaimedOrganizations: []string{demoOrganization},
			// The private questions, answered right: with a clicked
			// challenge link the assessment can recommend the reset.
			AccountCreated:  "2019-03",
			TwoFactorMethod: "totp",
			LastUpload:      "2026-08",
		}).
		SetStatusTokenHash(statusTokenHash(erinCaseReference)).
		SetTags([]string{}).
		SetFirstResponseDue(erinDue.FirstResponse).
		SetResolutionDue(erinDue.Resolution).
		SetSLADue(erinDue.FirstResponse).
		SetLastActivityAt(opened).
		SetCreatedAt(opened).
		SetUpdatedAt(opened).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("create case: %w", err)
	}
	if err := client.CaseParticipant.Create().
		SetCaseID(c.ID).SetEmailNormalized(strings.ToLower(address)).
		SetRole(caseparticipant.RoleRequester).SetCreatedAt(opened).
		Exec(ctx); err != nil {
		return fmt.Errorf("create participant: %w", err)
	}
	if err := client.Message.Create().
		SetCaseID(c.ID).
		SetMessageIDHeader(demoMessageID(erinCaseReference, 1)).
		SetDirection(message.DirectionInbound).
		SetVisibility(message.VisibilityPublic).
		SetChannel(message.ChannelWeb).
		SetFromAddress(address).SetFromName("Erin Okafor").
		SetSubject(subject).
		SetBodyText(erinExplanation).
		SetReceivedAt(opened).SetCreatedAt(opened).
		Exec(ctx); err != nil {
		return fmt.Errorf("create message: %w", err)
	}
	return nil
}

// generalQuestion and generalReply are the thread of the general case.
const (
	generalQuestion = `Hello,

the project "csvtools" has had no release since 2017 and its repository is
archived. I would like to publish a maintained fork under that name. Is
there a process for taking over an abandoned project name?

Best regards,
Priya Raman`
	generalReply = `Hi Priya,

thanks for asking first. Name transfers go through our abandoned-project
process: we try to reach the current owners for six weeks before anything
changes hands. Could you reply with a link to your fork and tell us which
account should receive the name (create one first if you have none)?

Sam, Recovery Desk`
)

func insertGeneralCase(ctx context.Context, client *ent.Client, users demoUsers) error {
	asked := at(2026, 10, 27, 15, 40)
	answered := at(2026, 10, 28, 9, 5)
	address := "priya.raman@example.com"
	subject := "Taking over an abandoned project name"
	due := desk.DefaultSLA.DeadlinesFor(supportcase.KindGeneral, asked)
	c, err := client.SupportCase.Create().
		SetReference(generalCaseReference).
		SetKind(supportcase.KindGeneral).
		SetStatus(supportcase.StatusWaitingOnRequester).
		SetSubject(subject).
		SetRequesterName("Priya Raman").
		SetRequesterEmail(address).
		SetRequesterEmailNormalized(strings.ToLower(address)).
		SetStatusTokenHash(statusTokenHash(generalCaseReference)).
		SetAssigneeID(users["sam"]).
		SetTags([]string{"project-name"}).
		SetFirstRespondedAt(answered).
		SetFirstResponseDue(due.FirstResponse).
		SetResolutionDue(due.Resolution).
		SetSLADue(due.Resolution).
		SetLastActivityAt(answered).
		SetCreatedAt(asked).
		SetUpdatedAt(answered).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("create case: %w", err)
	}
	if err := client.CaseParticipant.Create().
		SetCaseID(c.ID).SetEmailNormalized(strings.ToLower(address)).
		SetRole(caseparticipant.RoleRequester).SetCreatedAt(asked).
		Exec(ctx); err != nil {
		return fmt.Errorf("create participant: %w", err)
	}
	questionID := demoMessageID(generalCaseReference, 1)
	if _, err := client.Message.CreateBulk(
		client.Message.Create().
			SetCaseID(c.ID).
			SetMessageIDHeader(questionID).
			SetDirection(message.DirectionInbound).
			SetChannel(message.ChannelEmail).
			SetFromAddress(address).SetFromName("Priya Raman").
			SetTo([]string{demoSupportAddress}).
			SetSubject(subject).
			SetBodyText(generalQuestion).
			SetReceivedAt(asked).SetCreatedAt(asked),
		client.Message.Create().
			SetCaseID(c.ID).
			SetMessageIDHeader(demoMessageID(generalCaseReference, 2)).
			SetInReplyTo(questionID).
			SetReferences([]string{questionID}).
			SetDirection(message.DirectionOutbound).
			SetChannel(message.ChannelDesk).
			SetAuthorID(users["sam"]).
			SetFromAddress(demoSupportAddress).SetFromName("Sam Rivera").
			SetTo([]string{address}).
			SetSubject("Re: ["+generalCaseReference+"] "+subject).
			SetBodyText(generalReply).
			SetReceivedAt(answered).SetCreatedAt(answered),
	).Save(ctx); err != nil {
		return fmt.Errorf("create messages: %w", err)
	}
	return nil
}

// demoMessageID is the normalised Message-ID of a demo case's nth message.
func demoMessageID(reference string, n int) string {
	return fmt.Sprintf("demo.%s.%d@recoverydesk.test", strings.ToLower(reference), n)
}
