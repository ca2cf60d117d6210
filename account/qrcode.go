package account

import (
	"fmt"
	"strconv"
	"strings"

	"rsc.io/qr"
)

// qrQuietZone is the white margin, in modules, that ISO/IEC 18004 asks for
// around a QR code; scanners fail more often without it.
const qrQuietZone = 4

// QRCodeSVG renders text as a QR code (error correction level M) in SVG:
// a white square and one black path, one unit per module, no size, so CSS
// sizes it and the modules stay sharp. It carries no text or ARIA
// attributes: the page that embeds it labels it (the secret is also shown
// as text there for those who cannot scan).
func QRCodeSVG(text string) (string, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", fmt.Errorf("account: QR code of %d bytes: %w", len(text), err)
	}
	size := strconv.Itoa(code.Size + 2*qrQuietZone)
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + size + " " + size +
		`" shape-rendering="crispEdges">`)
	// An explicit white background keeps the code readable on a dark page.
	b.WriteString(`<rect width="` + size + `" height="` + size + `" fill="#fff"/>`)
	b.WriteString(`<path fill="#000" d="`)
	// Each horizontal run of black modules becomes one rectangle.
	for y := range code.Size {
		for x := 0; x < code.Size; {
			if !code.Black(x, y) {
				x++
				continue
			}
			run := 1
			for code.Black(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+qrQuietZone, y+qrQuietZone, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}
