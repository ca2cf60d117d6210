package web

import "github.com/microcosm-cc/bluemonday"

// mailHTMLPolicy is how the HTML part of a captured mail is made safe to
// show inside our page: bluemonday's UGC policy (no script, no event
// handlers, no style), and links to elsewhere open in a new tab with
// rel="noopener" so the mail cannot reach back into this window.
func mailHTMLPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	// A relative URL in a mail would point at this site (an <img src="/x">
	// fetching one of our pages); mail has no business doing that.
	p.AllowRelativeURLs(false)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.RequireNoReferrerOnFullyQualifiedLinks(true)
	return p
}
