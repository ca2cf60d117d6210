package account

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// FieldErrors maps a form field to what is wrong with it; web shows each
// message next to its field.
type FieldErrors map[string]string

func (e FieldErrors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e[k]
	}
	return "account: " + strings.Join(parts, "; ")
}

// Accounts registers users and manages their passwords and addresses.
type Accounts struct {
	st       *store.Store
	sessions *Sessions
	mailer   *Mailer
	limits   *ratelimit.Limiter
	hasher   *Hasher
	now      func() time.Time
}

// AccountsDeps are the services Accounts uses.
type AccountsDeps struct {
	Store    *store.Store
	Sessions *Sessions
	Mailer   *Mailer
	Limits   *ratelimit.Limiter
	Hasher   *Hasher         // nil: one of its own with Params
	Params   *PasswordParams // nil: DefaultPasswordParams
	Now      func() time.Time
}

// NewAccounts returns the service.
func NewAccounts(d AccountsDeps) *Accounts {
	a := &Accounts{st: d.Store, sessions: d.Sessions, mailer: d.Mailer, limits: d.Limits, hasher: hasherFor(d.Hasher, d.Params), now: d.Now}
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

// Registration is the sign-up form.
type Registration struct {
	Username string
	Email    string
	Password string
}

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Register creates an account with an unverified address and mails the
// verification link (single use, EmailVerificationTTL). Field problems come
// back as FieldErrors, all at once.
func (a *Accounts) Register(ctx context.Context, r Registration, at Attempt) (*ent.User, error) {
	r.Username = strings.TrimSpace(r.Username)
	errs := FieldErrors{}
	switch n := utf8.RuneCountInString(r.Username); {
	case n == 0:
		errs["username"] = "Choose a username."
	case n < 3 || n > 50:
		errs["username"] = "A username has 3 to 50 characters."
	case !usernamePattern.MatchString(r.Username):
		errs["username"] = "Use letters, digits, dots, dashes and underscores, starting with a letter or digit."
	}
	email, emailErr := parseAddress(r.Email)
	if emailErr != "" {
		errs["email"] = emailErr
	}
	if err := CheckPassword(r.Password, r.Username, localPart(email)); err != nil {
		errs["password"] = passwordMessage(err)
	}
	if _, ok := errs["username"]; !ok {
		taken, err := a.st.Ent.User.Query().Where(user.UsernameNormalized(NormalizeUsername(r.Username))).Exist(ctx)
		if err != nil {
			return nil, fmt.Errorf("account: check username: %w", err)
		}
		if taken {
			errs["username"] = "This username is taken. Choose another."
		}
	}
	if _, ok := errs["email"]; !ok {
		used, err := a.st.Ent.EmailAddress.Query().Where(emailaddress.AddressNormalized(NormalizeEmail(email)), emailaddress.VerifiedAtNotNil()).Exist(ctx)
		if err != nil {
			return nil, fmt.Errorf("account: check email: %w", err)
		}
		if used {
			errs["email"] = "This address belongs to another account. Sign in, or recover that account."
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	hash, err := a.hasher.Hash(ctx, r.Password)
	if err != nil {
		return nil, err
	}
	var u *ent.User
	err = a.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := a.now()
		u, err = tx.Ent.User.Create().
			SetUsername(r.Username).
			SetUsernameNormalized(NormalizeUsername(r.Username)).
			SetDisplayName(r.Username).
			SetPasswordHash(hash).
			SetPasswordChangedAt(now).
			Save(ctx)
		if ent.IsConstraintError(err) {
			return FieldErrors{"username": "This username is taken. Choose another."}
		}
		if err != nil {
			return fmt.Errorf("account: create user: %w", err)
		}
		if err := tx.Ent.EmailAddress.Create().SetUserID(u.ID).SetAddress(email).SetAddressNormalized(NormalizeEmail(email)).SetPrimary(true).Exec(ctx); err != nil {
			return fmt.Errorf("account: add email of user %d: %w", u.ID, err)
		}
		if err := RecordChange(ctx, tx, u.ID, EventEmailAdded, at.events(), map[string]any{"address": email}); err != nil {
			return err
		}
		return a.sendVerification(ctx, tx, u, email)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (a *Accounts) sendVerification(ctx context.Context, tx *store.Tx, u *ent.User, email string) error {
	token, err := IssueToken(ctx, tx.Ent, TokenParams{Purpose: TokenEmailVerification, UserID: &u.ID, Email: email, TTL: EmailVerificationTTL, Now: a.now()})
	if err != nil {
		return err
	}
	return a.mailer.SendEmailVerification(ctx, tx, mail.Address{Name: u.DisplayName, Address: email}, EmailVerificationMail{UserID: u.ID, Username: u.Username, Token: token})
}

// ErrEmailTaken: the address was verified by another account meanwhile.
var ErrEmailTaken = errors.New("account: this address was verified by another account")

// VerifyEmail consumes a verification link and marks its address verified.
func (a *Accounts) VerifyEmail(ctx context.Context, token string, at Attempt) (int, error) {
	var userID int
	err := a.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		t, err := ConsumeToken(ctx, tx.Ent, TokenEmailVerification, token, a.now())
		if err != nil {
			return err
		}
		if t.UserID == nil || t.Email == nil {
			return ErrTokenInvalid
		}
		userID = *t.UserID
		norm := NormalizeEmail(*t.Email)
		taken, err := tx.Ent.EmailAddress.Query().Where(emailaddress.AddressNormalized(norm), emailaddress.VerifiedAtNotNil(), emailaddress.UserIDNEQ(userID)).Exist(ctx)
		if err != nil {
			return fmt.Errorf("account: check email: %w", err)
		}
		if taken {
			return ErrEmailTaken
		}
		n, err := tx.Ent.EmailAddress.Update().
			Where(emailaddress.UserID(userID), emailaddress.AddressNormalized(norm), emailaddress.VerifiedAtIsNil()).
			SetVerifiedAt(a.now()).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("account: verify email of user %d: %w", userID, err)
		}
		if n == 0 {
			return ErrTokenUsed
		}
		return RecordChange(ctx, tx, userID, EventEmailVerified, at.events(), map[string]any{"address": *t.Email})
	})
	return userID, err
}

// NormalizeEmail is the form addresses are compared in.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// parseAddress returns the bare address, or a message for the form.
func parseAddress(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "Enter your email address."
	}
	if len(s) > 254 {
		return "", "An email address has at most 254 characters."
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", "Enter an email address like name@example.org."
	}
	return addr.Address, ""
}

func localPart(email string) string {
	if i := strings.LastIndexByte(email, '@'); i > 0 {
		return email[:i]
	}
	return ""
}

// passwordMessage is the person-facing text of a password problem.
func passwordMessage(err error) string {
	var pe *PasswordError
	if errors.As(err, &pe) {
		return pe.Message
	}
	return "Choose another password."
}
