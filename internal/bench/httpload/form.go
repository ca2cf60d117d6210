package httpload

import (
	"fmt"
	"html"
	"regexp"
)

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrfToken reads the CSRF token of the first form on a page.
func csrfToken(page Response) (string, error) {
	m := csrfInput.FindStringSubmatch(page.Body)
	if m == nil {
		return "", fmt.Errorf("no CSRF token on the page (status %d)", page.Status)
	}
	return html.UnescapeString(m[1]), nil
}

// wantStatus is a failed check unless r answered status.
func wantStatus(what string, r Response, status int) error {
	if r.Status != status {
		return fmt.Errorf("%s answered %d, want %d (location %q)", what, r.Status, status, r.Location)
	}
	return nil
}
