// Package layout holds the base page every screen is rendered in: head,
// skip link, header with the login state, flash messages, main and footer.
package layout

import "github.com/recoverydesk/recoverydesk/web/views/components"

// Page is what the base layout needs from every page. Handlers build it
// (web's page helper) and embed it in their page's view model.
type Page struct {
	// Title is the page's own title; the layout appends the site name.
	Title    string
	SiteName string
	// User is the signed-in person, nil when signed out.
	User *User
	// CSRFToken goes into every form on the page, the logout form included.
	CSRFToken string
	// Flashes are shown once, at the top of the page.
	Flashes []components.Flash
	Assets  Assets
}

// User is the signed-in person as the header shows them.
type User struct {
	Username    string
	DisplayName string
}

// Assets are the versioned URLs of the static files the layout links.
type Assets struct {
	CSS string
	JS  string
}

// FullTitle is the content of the <title> element.
func (p Page) FullTitle() string {
	if p.Title == "" {
		return p.SiteName
	}
	return p.Title + " — " + p.SiteName
}

func (u *User) name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}
