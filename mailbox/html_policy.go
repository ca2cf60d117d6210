package mailbox

import "github.com/microcosm-cc/bluemonday"

// HTMLPolicy is how the HTML part of a mail is made safe to store and
// show inside our pages (the desk keeps inbound mail's HTML sanitised with
// it; /dev/mail shows captured mail through it): bluemonday's UGC policy (no script, no event
// handlers, no style), and links to elsewhere open in a new tab with
// rel="noopener" so the mail cannot reach back into this window.
func HTMLPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	// A relative URL in a mail would point at this site (an <img src="/x">
	// fetching one of our pages); mail has no business doing that.
	p.AllowRelativeURLs(false)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.RequireNoReferrerOnFullyQualifiedLinks(true)
	return p
}
