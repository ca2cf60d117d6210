// Package mailtemplates holds the security emails' templates, a plain-text
// and an HTML version of each, and renders them. Each mail NAME has
// NAME.txt, defining "subject" and "body", and NAME.html, defining "body";
// layout.txt and layout.html wrap the body in the greeting and footer and
// define the shared "facts" block (time, IP address, browser).
package mailtemplates

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"
)

//go:embed *.txt *.html
var files embed.FS

// Set is every mail's parsed templates; it is safe for concurrent use.
type Set struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// Rendered is one mail, ready to queue.
type Rendered struct {
	Subject, Text, HTML string
}

// Parse parses every mail's templates with funcs available in all of them.
func Parse(funcs map[string]any) (*Set, error) {
	txts, err := fs.Glob(files, "*.txt")
	if err != nil {
		return nil, fmt.Errorf("mailtemplates: %w", err)
	}
	s := &Set{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, file := range txts {
		name := strings.TrimSuffix(file, ".txt")
		if name == "layout" {
			continue
		}
		t, err := texttemplate.New(name).Funcs(funcs).Option("missingkey=error").ParseFS(files, "layout.txt", file)
		if err != nil {
			return nil, fmt.Errorf("mailtemplates: %s: %w", file, err)
		}
		h, err := htmltemplate.New(name).Funcs(funcs).Option("missingkey=error").ParseFS(files, "layout.html", name+".html")
		if err != nil {
			return nil, fmt.Errorf("mailtemplates: %s.html: %w", name, err)
		}
		for _, part := range []string{"subject", "body"} {
			if t.Lookup(part) == nil {
				return nil, fmt.Errorf("mailtemplates: %s does not define %q", file, part)
			}
		}
		if h.Lookup("body") == nil {
			return nil, fmt.Errorf("mailtemplates: %s.html does not define \"body\"", name)
		}
		s.text[name], s.html[name] = t, h
	}
	return s, nil
}

// Names lists the mails of the set.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.text))
	for name := range s.text {
		names = append(names, name)
	}
	return names
}

// Render executes mail name with data. The subject is folded to one line,
// as a header must be.
func (s *Set) Render(name string, data any) (Rendered, error) {
	t, h := s.text[name], s.html[name]
	if t == nil || h == nil {
		return Rendered{}, fmt.Errorf("mailtemplates: no mail %q", name)
	}
	var subject, text, html strings.Builder
	if err := t.ExecuteTemplate(&subject, "subject", data); err != nil {
		return Rendered{}, fmt.Errorf("mailtemplates: %s subject: %w", name, err)
	}
	if err := t.ExecuteTemplate(&text, "layout", data); err != nil {
		return Rendered{}, fmt.Errorf("mailtemplates: %s text: %w", name, err)
	}
	if err := h.ExecuteTemplate(&html, "layout", data); err != nil {
		return Rendered{}, fmt.Errorf("mailtemplates: %s html: %w", name, err)
	}
	return Rendered{
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}
