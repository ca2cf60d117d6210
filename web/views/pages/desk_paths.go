package pages

import (
	"net/url"

	"github.com/a-h/templ"
)

// deskCasePath is the staff page of case ref.
func deskCasePath(ref string) templ.SafeURL {
	return templ.SafeURL("/desk/cases/" + url.PathEscape(ref))
}

// deskQueuePath is the queue with the query string query ("" for none).
func deskQueuePath(query string) templ.SafeURL {
	if query == "" {
		return "/desk"
	}
	return templ.SafeURL("/desk?" + query)
}
