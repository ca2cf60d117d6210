package hostilemail

import (
	"fmt"
	"strings"
)

// builders make the samples, in corpus order.
var builders = []func(run string) Sample{
	scriptTag, imgOnerror, javascriptLinks, iframeSrcdoc, metaRefresh, baseHref,
	formJavascript, dataURLs, cssExpressions, svgInline, mutationXSS,
	htmlAttachment, svgAttachment, plainTextScript,
	lookAlikeBrand, lookAlikeAddressInName, lookAlikeBidi, lookAlikeHomoglyph,
	injectionEncodedWords, injectionBareCR,
	manyParts, deepNesting, hugeHeader, manyHeaderFields,
}

func scriptTag(run string) Sample {
	d := newDraft("script-tag", run)
	d.htmlAlternative(fmt.Sprintf(`<html><head><script>%s</script></head><body><p>Hello</p>`+
		`<script src="%s"></script><SCRIPT>%s</SCRIPT><scr<script>ipt>%s</script></body></html>`,
		d.payload(), d.pwnedURL(), d.payload(), d.payload()))
	return d.build()
}

func imgOnerror(run string) Sample {
	d := newDraft("img-onerror", run)
	d.htmlAlternative(fmt.Sprintf(`<p>Screenshot:</p><img src=x onerror="%s"><img src="%s">`+
		`<body onload="%s"><video><source onerror="%s"></video><details open ontoggle="%s">x</details>`,
		d.payload(), d.pwnedURL(), d.payload(), d.payload(), d.payload()))
	return d.build()
}

func javascriptLinks(run string) Sample {
	d := newDraft("javascript-links", run)
	d.htmlAlternative(fmt.Sprintf(`<a href="javascript:%s">one</a> <a href="JaVaScRiPt:%s">two</a> `+
		`<a href=" &#106;avascript&#58;%s">three</a> <a href="java&#x09;script:%s">four</a> `+
		`<a href="vbscript:msgbox(1)">five</a> <a href="%s">six</a>`,
		d.payload(), d.payload(), d.payload(), d.payload(), d.pwnedURL()))
	return d.build()
}

func iframeSrcdoc(run string) Sample {
	d := newDraft("iframe-srcdoc", run)
	d.htmlAlternative(fmt.Sprintf(`<iframe srcdoc="&lt;script&gt;%s&lt;/script&gt;"></iframe>`+
		`<iframe src="javascript:%s"></iframe><iframe src="%s"></iframe><frameset><frame src="%s"></frameset>`,
		d.payload(), d.payload(), d.pwnedURL(), d.pwnedURL()))
	return d.build()
}

func metaRefresh(run string) Sample {
	d := newDraft("meta-refresh", run)
	d.htmlAlternative(fmt.Sprintf(`<html><head><meta http-equiv="refresh" content="0;url=%s">`+
		`<meta http-equiv="refresh" content="1;url=javascript:%s"></head><body>Wait</body></html>`,
		d.pwnedURL(), d.payload()))
	return d.build()
}

func baseHref(run string) Sample {
	d := newDraft("base-href", run)
	d.htmlAlternative(fmt.Sprintf(`<base href="javascript:%s//"><base href="http://evil.example/">`+
		`<a href="x">relative</a><img src="pixel.png">`, d.payload()))
	return d.build()
}

func formJavascript(run string) Sample {
	d := newDraft("form-javascript", run)
	d.htmlAlternative(fmt.Sprintf(`<form action="javascript:%s"><input name="password"><button>Sign in</button></form>`+
		`<form action="%s" method="post"><button formaction="javascript:%s">Go</button></form>`+
		`<input autofocus onfocus="%s">`,
		d.payload(), d.pwnedURL(), d.payload(), d.payload()))
	return d.build()
}

func dataURLs(run string) Sample {
	d := newDraft("data-urls", run)
	doc := "<script>" + d.payload() + "</script>"
	d.htmlAlternative(fmt.Sprintf(`<a href="data:text/html,%s">html</a>`+
		`<a href="data:text/html;base64,%s">b64</a><iframe src="data:text/html,%s"></iframe>`+
		`<object data="data:text/html,%s"></object><embed src="data:image/svg+xml,%s">`+
		`<img src="data:image/svg+xml,&lt;svg onload='%s'/&gt;">`,
		doc, b64(doc), doc, doc, doc, d.payload()))
	return d.build()
}

func cssExpressions(run string) Sample {
	d := newDraft("css-expressions", run)
	d.htmlAlternative(fmt.Sprintf(`<style>@import "%s"; body{background:url("%s")}</style>`+
		`<link rel="stylesheet" href="%s">`+
		`<div style="width:expression(%s);background:url(javascript:%s)">styled</div>`+
		`<p style="background-image:url('%s')">bg</p><div style="-moz-binding:url(%s#x)">b</div>`,
		d.pwnedURL(), d.pwnedURL(), d.pwnedURL(), d.payload(), d.payload(), d.pwnedURL(), d.pwnedURL()))
	return d.build()
}

func svgInline(run string) Sample {
	d := newDraft("svg-inline", run)
	d.htmlAlternative(fmt.Sprintf(`<svg><script>%s</script></svg><svg onload="%s"><circle r="4"/></svg>`+
		`<svg><a xlink:href="javascript:%s"><text y="10">click</text></a></svg>`+
		`<svg><animate attributeName="href" values="javascript:%s"/><image href="%s"/></svg>`,
		d.payload(), d.payload(), d.payload(), d.payload(), d.pwnedURL()))
	return d.build()
}

// mutationXSS holds markup that changes meaning when parsed twice.
func mutationXSS(run string) Sample {
	d := newDraft("mutation-xss", run)
	d.htmlAlternative(fmt.Sprintf(`<noscript><p title="</noscript><img src=x onerror=%s>"></noscript>`+
		`<math><mtext><table><mglyph><style><img src=x onerror=%s></style></mglyph></table></mtext></math>`+
		`<template><img src=x onerror=%s></template><textarea></textarea><img src=x onerror=%s></textarea>`,
		d.payload(), d.payload(), d.payload(), d.payload()))
	return d.build()
}

func htmlAttachment(run string) Sample {
	d := newDraft("html-attachment", run)
	d.withAttachment("invoice.html", "text/html",
		fmt.Sprintf(`<html><body><script>%s</script><img src=x onerror="%s">Invoice</body></html>`, d.payload(), d.payload()))
	return d.build()
}

func svgAttachment(run string) Sample {
	d := newDraft("svg-attachment", run)
	d.withAttachment("logo.svg", "image/svg+xml",
		fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" onload="%s"><script>%s</script><circle r="4"/></svg>`,
			d.payload(), d.payload()))
	return d.build()
}

// plainTextScript is a plain-text mail about markup: the page must show it
// as the sender wrote it, angle brackets and all.
func plainTextScript(run string) Sample {
	d := newDraft("plain-script", run)
	literal := "<script>" + d.payload() + "</script>"
	d.s.Literal = literal
	d.subject = `Hostile sample <img src=x onerror="` + d.payload() + `"> subject`
	d.body = "Why does the page show this?\n\n" + literal + "\n" +
		`<a href="javascript:` + d.payload() + `">link</a>` + "\n" +
		"https://evil.example/\"><script>" + d.payload() + "</script>\n" +
		"javascript:" + d.payload() + "\n"
	return d.build()
}

func lookAlikeBrand(run string) Sample {
	d := newDraft("lookalike-brand", run)
	d.s.From = "attacker-" + run + "@evil.example"
	d.s.LookAlike = "PyPI Security"
	d.fromHeader = `"PyPI Security" <` + d.s.From + `>`
	d.body = "We are PyPI staff. Please reset the account below.\n"
	return d.build()
}

func lookAlikeAddressInName(run string) Sample {
	d := newDraft("lookalike-address", run)
	d.s.From = "attacker-" + run + "@evil.example"
	d.s.LookAlike = "security@pypi.org <security@pypi.org>"
	d.fromHeader = `"security@pypi.org <security@pypi.org>" <` + d.s.From + `>`
	d.headers = []string{"Reply-To: " + `"admin@pypi.org" <` + d.s.From + `>`}
	d.body = "Forwarding from the security team.\n"
	return d.build()
}

// lookAlikeBidi hides the real address behind a right-to-left override:
// without isolation, the address after the name is shown reversed.
func lookAlikeBidi(run string) Sample {
	d := newDraft("lookalike-bidi", run)
	d.s.From = "attacker-" + run + "@evil.example"
	d.s.LookAlike = "PyPI \u202Egro.ipyp@ytiruces"
	d.fromHeader = encodedWord(d.s.LookAlike) + " <" + d.s.From + ">"
	d.subject = encodedWord("Account \u202Ekcol\u202C \u2066isolated\u2069 notice")
	d.body = "Reset please.\n"
	return d.build()
}

// lookAlikeHomoglyph uses Cyrillic letters that look Latin.
func lookAlikeHomoglyph(run string) Sample {
	d := newDraft("lookalike-homoglyph", run)
	d.s.From = "attacker-" + run + "@evil.example"
	d.s.LookAlike = "\u0420у\u0420I Ѕесurіtу" // РуРI Ѕесurіtу
	d.fromHeader = encodedWord(d.s.LookAlike) + " <" + d.s.From + ">"
	d.body = "Official notice.\n"
	return d.build()
}

// injectionEncodedWords smuggles CR/LF and a Bcc field in encoded words of
// Subject and From; the desk must keep them on one line and never turn
// them into headers of the mail it sends back.
func injectionEncodedWords(run string) Sample {
	d := newDraft("injection-encoded", run)
	d.subject = encodedWord("Help\r\nBcc: victim-"+run+"@victim.example\r\n\r\n<script>"+d.payload()+"</script>") +
		" =?UTF-8?Q?more=0D=0ACc:_victim-" + run + "@victim.example?="
	d.fromHeader = encodedWord("Name\r\nBcc: victim-"+run+"@victim.example") + " <" + d.s.From + ">"
	d.body = "Header injection attempt.\n"
	return d.build()
}

// injectionBareCR puts a bare CR and bare LF inside header values, which
// some parsers treat as line ends.
func injectionBareCR(run string) Sample {
	d := newDraft("injection-bare-cr", run)
	d.subject = "Hi\rBcc: victim-" + run + "@victim.example"
	d.headers = []string{"X-Note: a\rTo: victim-" + run + "@victim.example"}
	d.body = "Bare CR.\n"
	s := d.build()
	return s
}

// manyParts is a multipart/mixed of 10,000 small parts.
func manyParts(run string) Sample {
	d := newDraft("many-parts", run)
	d.s.Heavy, d.s.Oversized = true, true
	boundary := "many-" + run
	d.contentType = `multipart/mixed; boundary="` + boundary + `"`
	var b strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&b, "--%s\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: attachment; filename=\"p%d.txt\"\n\npart %d\n", boundary, i, i)
	}
	b.WriteString("--" + boundary + "--\n")
	d.body = b.String()
	return d.build()
}

// deepNesting nests multipart/mixed 1000 levels deep around an HTML part
// with a script.
func deepNesting(run string) Sample {
	d := newDraft("deep-nesting", run)
	d.s.Heavy, d.s.Oversized = true, true
	const depth = 1000
	d.contentType = `multipart/mixed; boundary="n0-` + run + `"`
	var b strings.Builder
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "--n%d-%s\nContent-Type: multipart/mixed; boundary=\"n%d-%s\"\n\n", i, run, i+1, run)
	}
	fmt.Fprintf(&b, "--n%d-%s\nContent-Type: text/html; charset=utf-8\n\n<script>%s</script><img src=x onerror=\"%s\">deep\n",
		depth, run, d.payload(), d.payload())
	for i := depth; i >= 0; i-- {
		fmt.Fprintf(&b, "--n%d-%s--\n", i, run)
	}
	d.body = b.String()
	return d.build()
}

// hugeHeader has one header field of almost 1 MiB, folded: the whole
// header section stays just under the 1 MiB a parser may reasonably
// refuse beyond, so the field has to be handled, not just rejected.
func hugeHeader(run string) Sample {
	d := newDraft("huge-header", run)
	d.s.Heavy = true
	line := strings.Repeat("A", 70)
	var b strings.Builder
	b.WriteString("X-Filler: start")
	for b.Len() < 1<<20-2048 {
		b.WriteString("\r\n ")
		b.WriteString(line)
	}
	d.headers = []string{b.String()}
	d.body = "One very large header field.\n"
	return d.build()
}

// manyHeaderFields has 100,000 header fields.
func manyHeaderFields(run string) Sample {
	d := newDraft("many-header-fields", run)
	d.s.Heavy = true
	d.headers = make([]string, 0, 100000)
	for i := range 100000 {
		d.headers = append(d.headers, fmt.Sprintf("X-Field-%d: value %d", i, i))
	}
	d.body = "A hundred thousand header fields.\n"
	return d.build()
}
