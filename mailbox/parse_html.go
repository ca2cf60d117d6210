package mailbox

import (
	"strings"

	"golang.org/x/net/html"
)

// mimeHTMLText renders an HTML body as plain text for a message that has
// no text part: the visible text, a line break at each block element, "> "
// before quoted lines, "- " before list items, link targets after their
// text, and nothing of head, script, style or comments.
func mimeHTMLText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var out strings.Builder
	type link struct {
		href  string
		start int // out.Len() at <a>
	}
	var links []link
	skip, quote, pre := 0, 0, 0
	atLineStart := true
	newline := func() {
		out.WriteByte('\n')
		atLineStart = true
	}
	write := func(s string) {
		if atLineStart && quote > 0 {
			out.WriteString(strings.Repeat("> ", quote))
		}
		out.WriteString(s)
		atLineStart = false
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return mimeTidyText(out.String())
		case html.TextToken:
			if skip > 0 {
				continue
			}
			text := string(z.Text())
			if pre > 0 {
				for i, line := range strings.Split(text, "\n") {
					if i > 0 {
						newline()
					}
					write(line)
				}
				continue
			}
			// Collapse white space as a browser does, keeping one space
			// at either end so "my <b>key</b>" keeps its gap.
			words := strings.Join(strings.Fields(text), " ")
			space := func() {
				if !atLineStart && !strings.HasSuffix(out.String(), " ") {
					write(" ")
				}
			}
			if words == "" {
				space()
				continue
			}
			if strings.TrimLeft(text, " \t\r\n\f") != text {
				space()
			}
			write(words)
			if strings.TrimRight(text, " \t\r\n\f") != text {
				space()
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			end := tt == html.EndTagToken
			switch tag {
			case "head", "script", "style", "title", "template", "noscript":
				if tt == html.StartTagToken {
					skip++
				} else if end && skip > 0 {
					skip--
				}
			case "br":
				newline()
			case "blockquote":
				newline()
				if end && quote > 0 {
					quote--
				} else if !end {
					quote++
				}
			case "pre":
				newline()
				if end && pre > 0 {
					pre--
				} else if !end {
					pre++
				}
			case "li":
				if !end {
					newline()
					write("- ")
				}
			case "a":
				if !end {
					links = append(links, link{mimeHref(z, hasAttr), out.Len()})
				} else if n := len(links); n > 0 {
					// Show the target unless the link text already does.
					if l := links[n-1]; l.href != "" && !strings.Contains(out.String()[l.start:], l.href) {
						write(" <" + l.href + ">")
					}
					links = links[:n-1]
				}
			case "p", "div", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "section", "article", "header", "footer", "dl", "dt", "dd":
				newline()
			case "td", "th":
				if end {
					write(" ")
				}
			}
		}
	}
}

// mimeHref returns the href of the current <a> tag when it is a web or
// mail link worth showing.
func mimeHref(z *html.Tokenizer, hasAttr bool) string {
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		if string(k) == "href" {
			href := strings.TrimSpace(string(v))
			if strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://") {
				return href
			}
			return ""
		}
	}
	return ""
}

// mimeTidyText trims trailing spaces from lines and collapses runs of
// blank lines to one.
func mimeTidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := true // drops leading blank lines
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u00a0")
		if strings.TrimSpace(l) == "" {
			if blank {
				continue
			}
			blank = true
			out = append(out, "")
			continue
		}
		blank = false
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
