package seed

import (
	"math/rand/v2"
	"strings"
)

// Word lists for the bulk data. The texts are random but built from the
// words a real support mailbox carries, so full-text search over millions
// of messages finds a realistic spread: some words in most cases, product
// words in some, rare words in few.

var bulkFirstNames = strings.Fields(`ana anders anna arjun ben carla chen chloe daniel david elena emma
fatima felix gabriel hana hugo ines ivan jakob james jana jonas julia kai karin kenji lars laura
leon lina lucas luis maria marta mateo max mia mohammed nadia nina noah olga omar oscar paula pedro
priya rafael rosa sam sara sofia tariq tom vera wei yara yusuf zoe`)

var bulkLastNames = strings.Fields(`abe almeida berg bianchi brown costa dubois eriksen fischer garcia
hansen ivanova jensen kim kowalski larsen lee lopez martin meyer moreau muller nakamura nguyen novak
olsen patel perez petrov rossi sato schmidt silva smith tanaka taylor weber wilson wong yilmaz zhang`)

var bulkMailDomains = strings.Fields(`gmail.com proton.me outlook.com fastmail.com posteo.de
yahoo.com icloud.com mailbox.org hey.com gmx.net example.org uni-heidelberg.de`)

var bulkProjectAdj = strings.Fields(`async fast tiny simple py pure smart lazy deep micro open auto
red blue green quick safe clean super mini hyper wild solid`)

var bulkProjectNoun = strings.Fields(`parser client toolkit utils cache queue router schema config
logger crypto json yaml http grpc orm migrate lint format test mock plot stats geo image audio
vector graph cli shell template crawler scheduler auth token storage sdk bridge`)

var bulkCaseSubjects = []string{
	"Lost my phone and cannot sign in",
	"Authenticator app reset after factory wipe",
	"Recovery codes lost, need access to my account",
	"Locked out after changing phones",
	"Cannot publish releases, 2FA device broken",
	"Security key stolen, please disable it",
	"Question about organization ownership",
	"Help transferring project to a new maintainer",
	"Email address no longer works",
	"Account compromised? Suspicious upload",
	"TOTP codes are always rejected",
	"Request to remove two-factor authentication",
	"Former employee owned our project",
	"Name squatting report",
	"API token upload failing with 403",
}

var bulkTags = strings.Fields(`vip lost-phone security-key org-transfer suspicious escalated
duplicate spam needs-proof callback legal`)

// bulkVocabulary feeds the message bodies; the first part are common
// support words, the rest rarer technical and everyday words.
var bulkVocabulary = strings.Fields(`account access phone authenticator app code codes recovery
sign login password email address project release upload package maintainer owner organization
reset two factor security key device lost stolen broken replaced backup restore verify verified
identity proof repository commit signed github gitlab domain dns record token api publish wheel
sdist version changelog urgent deadline please thanks help again yesterday today week month
travel airport conference holiday laptop tablet android iphone pixel samsung yubikey titan
nitrokey solokey bitwarden onepassword keepass authy duo microsoft google aegis freeotp backup
screenshot invoice receipt passport license colleague manager employer university student
team company startup foundation volunteer community mirror pipeline workflow actions runner ci
build failing broken tests coverage docs documentation readme license apache mit bsd gpl
python rust javascript golang java ruby kernel linux macos windows ubuntu debian fedora arch
server cluster kubernetes docker container image registry cloud bucket storage object
migration schema database postgres mysql sqlite redis queue worker cron scheduler timezone
berlin paris london tokyo sydney toronto lagos mumbai sao paulo madrid warsaw oslo
monday tuesday wednesday thursday friday saturday sunday morning evening night
apologies understand explain describe attached attachment forwarded reply replied waiting
checked confirmed confirm challenge gist file placed committed pushed tag tagged released
old new previous current former temporary permanent alternative secondary primary`)

var bulkOpenings = []string{
	"Hello,", "Hi there,", "Dear support team,", "Good morning,", "Hi,", "Hello team,",
}

var bulkClosings = []string{
	"Thanks,", "Best regards,", "Cheers,", "Kind regards,", "Thank you,", "Many thanks,",
}

// bulkSentence is n words from the vocabulary, capitalised and ended.
func bulkSentence(r *rand.Rand, n int, b *strings.Builder) {
	for i := range n {
		w := bulkVocabulary[r.IntN(len(bulkVocabulary))]
		if i == 0 {
			b.WriteString(strings.ToUpper(w[:1]))
			b.WriteString(w[1:])
		} else {
			b.WriteByte(' ')
			b.WriteString(w)
		}
	}
	b.WriteString(". ")
}

// bulkBody is a short letter: greeting, two to five sentences, sign-off.
func bulkBody(r *rand.Rand, signer string) string {
	var b strings.Builder
	b.WriteString(bulkOpenings[r.IntN(len(bulkOpenings))])
	b.WriteString("\n\n")
	for range 2 + r.IntN(4) {
		bulkSentence(r, 5+r.IntN(10), &b)
	}
	b.WriteString("\n\n")
	b.WriteString(bulkClosings[r.IntN(len(bulkClosings))])
	b.WriteByte('\n')
	b.WriteString(signer)
	return b.String()
}
