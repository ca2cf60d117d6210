package desk_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
)

// statusText is everything the requester's status page shows, as one
// string to search.
func statusText(v *desk.StatusView) string {
	parts := []string{v.Reference, v.Status, v.Next}
	parts = append(parts, v.Todo...)
	for _, m := range v.Messages {
		parts = append(parts, m.Body, m.Quoted)
	}
	return strings.Join(parts, "\n")
}

const onFileTodo = "the address on file"

func TestEmailChallengeEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)
	a := seedAccount(t, fx.st)
	second := unique("second") + "@example.com"
	a.addEmail(second, false, &accountBorn)
	unverified := unique("unverified") + "@example.com"
	a.addEmail(unverified, false, nil)
	contact := unique("contact") + "@example.net"
	c := fx.submit(t, recoveryForm(a.User.Username, contact))

	run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID}, desk.EmailChallengeArgs{CaseID: c.ID})

	sent := mails(t, fx.st, c.ID, desk.MailEmailChallenge)
	var to []string
	for _, m := range sent {
		to = append(to, m.ToAddress)
	}
	slices.Sort(to)
	want := []string{a.Primary, second, contact}
	slices.Sort(want)
	if !slices.Equal(to, want) {
		t.Fatalf("challenge mails to %v, want %v (verified addresses and the contact)", to, want)
	}
	for _, m := range sent {
		notOn := strings.Contains(m.BodyText, "This address is not on the account")
		if (m.ToAddress == contact) != notOn {
			t.Errorf("mail to %s says not on the account: %v\n%s", m.ToAddress, notOn, m.BodyText)
		}
		if !strings.Contains(m.Subject, c.Reference) || !strings.Contains(m.BodyText, a.User.Username) {
			t.Errorf("mail to %s lacks the reference or username: %s\n%s", m.ToAddress, m.Subject, m.BodyText)
		}
	}
	tokens := challengeTokens(t, fx.st, c.ID)

	// The requester is asked to use the link on file, without learning
	// which address that is.
	view, err := fx.in.Status(ctx, c.Reference, c.StatusToken)
	if err != nil {
		t.Fatal(err)
	}
	if !containsLine(view.Todo, onFileTodo) {
		t.Errorf("to-do lacks the link on file: %q", view.Todo)
	}
	for _, addr := range []string{a.Primary, second, unverified} {
		if strings.Contains(statusText(view), addr) {
			t.Errorf("status page shows the account's address %s:\n%s", addr, statusText(view))
		}
	}

	// Peeking (a mail scanner opening the link) does not spend it.
	for range 2 {
		peek, err := fx.ev.PeekEmailChallenge(ctx, tokens[a.Primary])
		if err != nil {
			t.Fatalf("peek: %v", err)
		}
		if peek.Address != a.Primary || !peek.OnAccount || peek.Reference != c.Reference || peek.Username != a.User.Username {
			t.Errorf("peek %+v", peek)
		}
	}
	if peek, err := fx.ev.PeekEmailChallenge(ctx, tokens[contact]); err != nil || peek.OnAccount {
		t.Errorf("peek at the contact link: %+v, %v; want OnAccount false", peek, err)
	}

	before := versions(t, fx.st, c.ID)
	got, err := fx.ev.AnswerEmailChallenge(ctx, tokens[a.Primary], true, origin())
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	if got.Address != a.Primary {
		t.Errorf("answered for %s, want %s", got.Address, a.Primary)
	}
	proof := onlyItem(t, fx.st, c.ID, desk.KindEmailControl)
	if string(proof.Strength) != string(desk.StrengthProof) || proof.Source != a.Primary || proof.Finding.Discounted != "" {
		t.Errorf("email control %s from %s discounted %q, want a counted proof_of_control", proof.Strength, proof.Source, proof.Finding.Discounted)
	}
	if n := versions(t, fx.st, c.ID); n != before+1 {
		t.Errorf("%d assessment versions after the answer, want %d", n, before+1)
	}
	if !containsPrefix(latest(t, fx.st, c.ID).Reasons, "Proof of control: Confirmed the request from "+a.Primary) {
		t.Errorf("reasons lack the proof: %q", latest(t, fx.st, c.ID).Reasons)
	}

	// A link works once.
	if _, err := fx.ev.AnswerEmailChallenge(ctx, tokens[a.Primary], true, origin()); !errors.Is(err, account.ErrTokenUsed) {
		t.Errorf("reused link: %v, want ErrTokenUsed", err)
	}
	if _, err := fx.ev.PeekEmailChallenge(ctx, tokens[a.Primary]); !errors.Is(err, account.ErrTokenUsed) {
		t.Errorf("peek at a used link: %v, want ErrTokenUsed", err)
	}
	if n := len(caseItems(t, fx.st, c.ID, desk.KindEmailControl)); n != 1 {
		t.Errorf("%d email control items after a reuse, want 1", n)
	}
	// A forged link: the right shape, not issued.
	forged := []byte(tokens[second])
	forged[10] = map[bool]byte{true: 'B', false: 'A'}[forged[10] == 'A']
	if _, err := fx.ev.AnswerEmailChallenge(ctx, string(forged), true, origin()); !errors.Is(err, account.ErrTokenInvalid) {
		t.Errorf("forged link: %v, want ErrTokenInvalid", err)
	}
	if _, err := fx.ev.AnswerEmailChallenge(ctx, "not-a-token", true, origin()); !errors.Is(err, account.ErrTokenInvalid) {
		t.Errorf("garbage link: %v, want ErrTokenInvalid", err)
	}
	// Three days and an hour later the link has expired.
	late := fx.evidenceAt(func() time.Time { return time.Now().Add(desk.DefaultEmailChallengeTTL + time.Hour) })
	if _, err := late.AnswerEmailChallenge(ctx, tokens[second], true, origin()); !errors.Is(err, account.ErrTokenExpired) {
		t.Errorf("expired link: %v, want ErrTokenExpired", err)
	}
	if _, err := late.PeekEmailChallenge(ctx, tokens[second]); !errors.Is(err, account.ErrTokenExpired) {
		t.Errorf("peek at an expired link: %v, want ErrTokenExpired", err)
	}

	// One link on file is still open, so the sentence stays.
	view, err = fx.in.Status(ctx, c.Reference, c.StatusToken)
	if err != nil {
		t.Fatal(err)
	}
	if !containsLine(view.Todo, onFileTodo) {
		t.Errorf("to-do lost the open link on file: %q", view.Todo)
	}
	if _, err := fx.ev.AnswerEmailChallenge(ctx, tokens[second], true, origin()); err != nil {
		t.Fatalf("answer from the second address (in time): %v", err)
	}
	view, err = fx.in.Status(ctx, c.Reference, c.StatusToken)
	if err != nil {
		t.Fatal(err)
	}
	if containsLine(view.Todo, onFileTodo) {
		t.Errorf("to-do still asks for used links: %q", view.Todo)
	}
	if !containsLine(view.Todo, contact) {
		t.Errorf("to-do lacks the open link to the contact address: %q", view.Todo)
	}
	if _, err := fx.ev.AnswerEmailChallenge(ctx, tokens[contact], true, origin()); err != nil {
		t.Fatal(err)
	}
	if view, err = fx.in.Status(ctx, c.Reference, c.StatusToken); err != nil || len(view.Todo) != 0 {
		t.Errorf("to-do after every link was used: %q, %v", view.Todo, err)
	}
	if n := len(caseItems(t, fx.st, c.ID, desk.KindEmailControl)); n != 3 {
		t.Errorf("%d email control items, want one per address", n)
	}
}

func TestEmailChallengeDisavowedDenies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)
	a := seedAccount(t, fx.st)
	a.addTOTP()
	f := recoveryForm(a.User.Username, unique("attacker")+"@example.net")
	f.TwoFactorMethod = desk.MethodTOTP
	c := fx.submit(t, f)
	run(t, fx.ev, allJobs(c.ID)...)

	if _, err := fx.ev.AnswerEmailChallenge(ctx, challengeTokens(t, fx.st, c.ID)[a.Primary], false, origin()); err != nil {
		t.Fatal(err)
	}
	flag := onlyItem(t, fx.st, c.ID, desk.KindEmailDisavowed)
	if string(flag.Strength) != string(desk.StrengthRedFlag) || !strings.Contains(flag.Finding.Summary, a.Primary) {
		t.Errorf("disavowal %s: %s", flag.Strength, flag.Finding.Summary)
	}
	if got := latest(t, fx.st, c.ID); string(got.Recommendation) != string(desk.RecommendDeny) {
		t.Errorf("recommendation %s, want deny: %q", got.Recommendation, got.Reasons)
	}
	if got := caseRow(t, fx.st, c.ID); got.Recommendation == nil || *got.Recommendation != string(desk.RecommendDeny) {
		t.Errorf("case recommendation %v, want deny", got.Recommendation)
	}
}

func TestEmailChallengeRecentAddressIsDiscounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)
	a := seedAccount(t, fx.st)
	a.addTOTP()
	// A takeover adds and verifies its own address first.
	verified := time.Now().Add(-2 * 24 * time.Hour)
	fresh := unique("fresh") + "@example.net"
	a.addEmail(fresh, false, &verified)
	f := recoveryForm(a.User.Username, fresh)
	f.TwoFactorMethod = desk.MethodTOTP
	f.AccountCreated = "2019-03"
	c := fx.submit(t, f)
	run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID}, desk.PrivateKnowledgeArgs{CaseID: c.ID}, desk.EmailChallengeArgs{CaseID: c.ID})

	tokens := challengeTokens(t, fx.st, c.ID)
	if len(tokens) != 2 || tokens[fresh] == "" {
		t.Fatalf("links to %v, want the two verified addresses", tokens)
	}
	if _, err := fx.ev.AnswerEmailChallenge(ctx, tokens[fresh], true, origin()); err != nil {
		t.Fatal(err)
	}
	proof := onlyItem(t, fx.st, c.ID, desk.KindEmailControl)
	if proof.Finding.Discounted == "" || !strings.Contains(proof.Finding.Discounted, "2 days before the request") {
		t.Errorf("proof from a two-day-old address discounted %q", proof.Finding.Discounted)
	}
	got := latest(t, fx.st, c.ID)
	if string(got.Recommendation) == string(desk.RecommendApprove) {
		t.Fatalf("a discounted proof approved: %q", got.Reasons)
	}
	if !containsPrefix(got.Reasons, "Not counted: Confirmed the request from "+fresh) {
		t.Errorf("reasons do not say the proof is not counted: %q", got.Reasons)
	}
}
