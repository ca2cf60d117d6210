// Package mailtemplates holds the desk's plain-text emails: the
// acknowledgement of a recovery request and the notice to an assignee that
// the requester added information. Each NAME.txt defines "subject" and
// "body".
package mailtemplates

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"text/template"
)

//go:embed *.txt
var files embed.FS

// Set is every mail's parsed template; it is safe for concurrent use.
type Set struct {
	text map[string]*template.Template
}

// Parse parses every embedded template.
func Parse() (*Set, error) {
	names, err := fs.Glob(files, "*.txt")
	if err != nil {
		return nil, fmt.Errorf("desk mailtemplates: %w", err)
	}
	s := &Set{text: map[string]*template.Template{}}
	for _, file := range names {
		name := strings.TrimSuffix(file, ".txt")
		t, err := template.New(name).Option("missingkey=error").ParseFS(files, file)
		if err != nil {
			return nil, fmt.Errorf("desk mailtemplates: %s: %w", file, err)
		}
		for _, part := range []string{"subject", "body"} {
			if t.Lookup(part) == nil {
				return nil, fmt.Errorf("desk mailtemplates: %s does not define %q", file, part)
			}
		}
		s.text[name] = t
	}
	return s, nil
}

// Render returns the subject (one line) and the body of mail name.
func (s *Set) Render(name string, data any) (subject, body string, err error) {
	t := s.text[name]
	if t == nil {
		return "", "", fmt.Errorf("desk mailtemplates: no template %q", name)
	}
	var sb, bb strings.Builder
	if err := t.ExecuteTemplate(&sb, "subject", data); err != nil {
		return "", "", fmt.Errorf("desk mailtemplates: %s subject: %w", name, err)
	}
	if err := t.ExecuteTemplate(&bb, "body", data); err != nil {
		return "", "", fmt.Errorf("desk mailtemplates: %s body: %w", name, err)
	}
	return strings.Join(strings.Fields(sb.String()), " "), bb.String(), nil
}
