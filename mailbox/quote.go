package mailbox

import (
	"regexp"
	"strings"
)

// ReplyAboveMarker is the line we put at the top of outgoing mail; what a
// requester writes above it is their reply, the rest is our own quoted text.
const ReplyAboveMarker = "##- Please type your reply above this line -##"

// Folded is a reply's text split for display: what the person wrote, and
// the quoted history shown collapsed. Together they hold every line of the
// original; the full text is stored separately anyway.
type Folded struct {
	Visible string
	Quoted  string
}

// FoldQuoted splits text at the start of its quoted history. It cuts at the
// first unquoted line that is marker (our ReplyAboveMarker, or any other
// reply-above line the caller passes; "" turns that rule off), an Outlook
// separator ("-----Original Message-----", a "From: … Sent: … Subject: …"
// block, a line of underscores before one), or an attribution line ("On
// … wrote:", also wrapped over up to three lines and in French, German
// and Spanish) that introduces the rest of the message. A forwarded message
// is never folded. Without one, only
// a trailing block of ">" lines is folded: someone who writes below the
// quote (bottom-posting) or between quoted lines keeps all of it visible.
// Nothing is folded when that would leave nothing visible.
func FoldQuoted(text string, marker string) Folded {
	lines := strings.Split(text, "\n")
	cut := -1
	for i := 0; i < len(lines) && cut < 0; i++ {
		line := strings.TrimSpace(lines[i])
		switch {
		case line == "" || isQuoted(line):
		case forwarded.MatchString(line):
			// A forwarded message is what the person sends us, often
			// as evidence: it stays visible, header block and all.
			return Folded{Visible: text}
		case marker != "" && strings.Contains(line, strings.TrimSpace(marker)):
			cut = i
		case originalMessage.MatchString(line):
			cut = i
		case underscores.MatchString(line) && headerBlockAt(lines, nextNonBlank(lines, i+1)):
			cut = i
		case headerBlockAt(lines, i):
			cut = i
		default:
			if end := attributionEnd(lines, i); end >= 0 && introducesRest(lines, end+1) {
				cut = i
			}
		}
	}
	if cut < 0 {
		cut = trailingQuote(lines)
	}
	if cut <= 0 {
		return Folded{Visible: text}
	}
	visible := strings.TrimRight(strings.Join(lines[:cut], "\n"), " \t\r\n")
	if visible == "" {
		return Folded{Visible: text}
	}
	return Folded{
		Visible: visible,
		Quoted:  strings.TrimRight(strings.Join(lines[cut:], "\n"), " \t\r\n"),
	}
}

var (
	// originalMessage is Outlook's separator, in a few languages.
	originalMessage = regexp.MustCompile(`(?i)^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht)\s*-{2,}$`)
	underscores     = regexp.MustCompile(`^_{20,}$`)
	forwarded       = regexp.MustCompile(`(?i)^(-+\s*(forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado)\s*-+|begin forwarded message:)$`)
	// headerFrom and headerOther are the fields of Outlook's header block;
	// Outlook often writes the names bold ("*From:*") in plain text.
	headerFrom  = regexp.MustCompile(`(?i)^\*?(from|de|von|da|van)\s?:\*?\s*\S`)
	headerOther = regexp.MustCompile(`(?i)^\*?(sent|date|to|cc|subject|envoyé|à|objet|gesendet|datum|an|betreff|enviado|fecha|para|asunto|inviato|oggetto|verzonden|onderwerp|aan)\s?:\*?`)
	// attribution is an "On … wrote:" line, joined when wrapped.
	attribution = []*regexp.Regexp{
		regexp.MustCompile(`(?i)^on\s.{4,}\swrote:$`),
		regexp.MustCompile(`(?i)^le\s.{4,}\sa\s+écrit\s?:$`),
		regexp.MustCompile(`(?i)^am\s.{4,}\sschrieb\s.*:$`),
		regexp.MustCompile(`(?i)^el\s.{4,}\sescribió\s?:$`),
	}
)

func isQuoted(trimmed string) bool { return strings.HasPrefix(trimmed, ">") }

// headerBlockAt reports whether lines[i] starts an Outlook header block: a
// From field followed, within the next five lines, by two more of Sent,
// Date, To, Cc, Subject (or their translations).
func headerBlockAt(lines []string, i int) bool {
	if i < 0 || i >= len(lines) || !headerFrom.MatchString(strings.TrimSpace(lines[i])) {
		return false
	}
	n := 0
	for _, l := range lines[i+1 : min(len(lines), i+6)] {
		if headerOther.MatchString(strings.TrimSpace(l)) {
			n++
		}
	}
	return n >= 2
}

// attributionEnd returns the index of the last line of an attribution
// starting at lines[i], or -1. Clients wrap long ones, so up to three
// unquoted lines are joined.
func attributionEnd(lines []string, i int) int {
	joined := ""
	for j := i; j < len(lines) && j < i+3; j++ {
		l := strings.TrimSpace(lines[j])
		if l == "" || isQuoted(l) {
			return -1
		}
		if joined != "" {
			joined += " "
		}
		joined += l
		if len(joined) > 400 {
			return -1
		}
		for _, re := range attribution {
			// Every client writes a date or time; requiring a digit keeps
			// "On Monday I wrote:" in a person's own text.
			if re.MatchString(joined) && strings.ContainsAny(joined, "0123456789") {
				if j > i && attributionEnd(lines, i+1) == j {
					// The attribution starts on a later line; lines[i]
					// is the person's own.
					return -1
				}
				return j
			}
		}
	}
	return -1
}

// introducesRest reports whether an attribution ending before lines[from]
// heads the rest of the message: everything after it is quoted, or the
// line right after it is unquoted (a client that lost the ">" marks). A
// quote followed by the person's own text is bottom-posting: no cut.
func introducesRest(lines []string, from int) bool {
	first := true
	for _, l := range lines[from:] {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if first && !isQuoted(l) {
			return true
		}
		first = false
		if !isQuoted(l) {
			return false
		}
	}
	return true
}

// trailingQuote returns the index of the first line of the block of ">"
// lines (and blank lines) that ends the text, or -1.
func trailingQuote(lines []string) int {
	start := -1
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if !isQuoted(l) {
			break
		}
		start = i
	}
	return start
}
