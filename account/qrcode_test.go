package account_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"rsc.io/qr"

	"github.com/recoverydesk/recoverydesk/account"
)

// svgDoc is what QRCodeSVG may contain: one background rect and one path.
type svgDoc struct {
	XMLName        xml.Name `xml:"svg"`
	ViewBox        string   `xml:"viewBox,attr"`
	ShapeRendering string   `xml:"shape-rendering,attr"`
	Rects          []struct {
		Fill string `xml:"fill,attr"`
	} `xml:"rect"`
	Paths []struct {
		D    string `xml:"d,attr"`
		Fill string `xml:"fill,attr"`
	} `xml:"path"`
	Text     string     `xml:",chardata"`
	Children []xml.Name `xml:",any"`
}

// parseQRSVG decodes the SVG strictly and returns its modules as a grid
// (quiet zone included) rebuilt from the path.
func parseQRSVG(t *testing.T, svg string) (svgDoc, [][]bool) {
	t.Helper()
	var doc svgDoc
	dec := xml.NewDecoder(strings.NewReader(svg))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, svg)
	}
	if doc.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Errorf("namespace %q", doc.XMLName.Space)
	}
	if doc.ShapeRendering != "crispEdges" {
		t.Errorf("shape-rendering = %q", doc.ShapeRendering)
	}
	if len(doc.Paths) != 1 || len(doc.Rects) != 1 || len(doc.Children) != 0 || strings.TrimSpace(doc.Text) != "" {
		t.Fatalf("want one rect and one path and no text, got %d rects, %d paths, others %v, text %q",
			len(doc.Rects), len(doc.Paths), doc.Children, doc.Text)
	}
	if doc.Rects[0].Fill != "#fff" || doc.Paths[0].Fill != "#000" {
		t.Errorf("colours: background %q, modules %q", doc.Rects[0].Fill, doc.Paths[0].Fill)
	}
	var n, n2 int
	if _, err := fmt.Sscanf(doc.ViewBox, "0 0 %d %d", &n, &n2); err != nil || n != n2 {
		t.Fatalf("viewBox %q is not a square from the origin", doc.ViewBox)
	}
	grid := make([][]bool, n)
	for i := range grid {
		grid[i] = make([]bool, n)
	}
	// The path is a run of "Mx yhWv1h-Wz" rectangles, one row high.
	for _, cmd := range strings.Split(strings.TrimSuffix(doc.Paths[0].D, "z"), "z") {
		var x, y, w, w2 int
		if _, err := fmt.Sscanf(cmd, "M%d %dh%dv1h-%d", &x, &y, &w, &w2); err != nil || w != w2 || w < 1 {
			t.Fatalf("path command %q: %v", cmd, err)
		}
		for i := x; i < x+w; i++ {
			if y < 0 || y >= n || i < 0 || i >= n || grid[y][i] {
				t.Fatalf("path command %q leaves the box or overlaps", cmd)
			}
			grid[y][i] = true
		}
	}
	return doc, grid
}

func TestQRCodeSVGModules(t *testing.T) {
	t.Parallel()
	text := account.TOTPKeyURI("Recovery Desk", "ada@example.org", []byte("12345678901234567890"))
	svg, err := account.QRCodeSVG(text)
	if err != nil {
		t.Fatal(err)
	}
	_, grid := parseQRSVG(t, svg)
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		t.Fatal(err)
	}
	const quiet = 4
	if len(grid) != code.Size+2*quiet {
		t.Fatalf("%d modules a side, want %d + a quiet zone of %d", len(grid), code.Size, quiet)
	}
	// The drawing is exactly the encoder's bitmap, with a white margin.
	for y := range grid {
		for x := range grid {
			if want := code.Black(x-quiet, y-quiet); grid[y][x] != want {
				t.Fatalf("module (%d,%d) black=%v, want %v", x-quiet, y-quiet, grid[y][x], want)
			}
		}
	}
	// Independently of the encoder: the three finder patterns are there.
	last := code.Size - 7
	for _, corner := range [][2]int{{0, 0}, {last, 0}, {0, last}} {
		for dy := range 7 {
			for dx := range 7 {
				ring := max(qrAbs(dx-3), qrAbs(dy-3))
				want := ring != 2 // black outer ring and 3×3 centre
				if got := grid[quiet+corner[1]+dy][quiet+corner[0]+dx]; got != want {
					t.Fatalf("finder pattern at %v: module (%d,%d) black=%v", corner, dx, dy, got)
				}
			}
		}
	}
}

func TestQRCodeSVGDeterministic(t *testing.T) {
	t.Parallel()
	a, err := account.QRCodeSVG("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example")
	if err != nil {
		t.Fatal(err)
	}
	b, err := account.QRCodeSVG("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("two renderings of one text differ")
	}
	// Pinned, so a change to the drawing (or the encoder) is noticed.
	sum := sha256.Sum256([]byte(a))
	if got, want := hex.EncodeToString(sum[:]), qrGoldenSHA256; got != want {
		t.Errorf("SVG sha256 = %s, want %s\n%s", got, want, a)
	}
	c, err := account.QRCodeSVG("otpauth://totp/Example:bob?secret=JBSWY3DPEHPK3PXP&issuer=Example")
	if err != nil {
		t.Fatal(err)
	}
	if a == c {
		t.Fatal("different texts rendered the same")
	}
}

const qrGoldenSHA256 = "880ed98ec585e0d65d9524d00d2794cada8a4e23ad9bf490b29d64c502ebe9d3"

func TestQRCodeSVGSize(t *testing.T) {
	t.Parallel()
	prev := 0
	for _, length := range []int{1, 40, 120, 400, 1200} {
		svg, err := account.QRCodeSVG(strings.Repeat("a", length))
		if err != nil {
			t.Fatalf("%d bytes: %v", length, err)
		}
		_, grid := parseQRSVG(t, svg)
		if len(grid) <= prev {
			t.Errorf("%d bytes: %d modules a side, not more than %d for shorter text", length, len(grid), prev)
		}
		prev = len(grid)
	}
	// Version 1 (21 modules) plus 4 quiet modules each side.
	svg, err := account.QRCodeSVG("a")
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := parseQRSVG(t, svg); doc.ViewBox != "0 0 29 29" {
		t.Errorf("viewBox of a 1-byte code = %q, want 0 0 29 29", doc.ViewBox)
	}
	if _, err := account.QRCodeSVG(strings.Repeat("a", 5000)); err == nil {
		t.Error("5000 bytes: no error, but no QR code holds that much")
	}
}

func qrAbs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
