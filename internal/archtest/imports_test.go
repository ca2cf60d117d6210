// Package archtest checks the dependency rule of the house: imports point
// inward, cmd → web, workers → account, desk, mailbox → ent. Production
// imports only: tests may use helpers such as internal/testdb anywhere.
package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/recoverydesk/recoverydesk"

// layers orders our packages from the centre outwards; a package may import
// only packages of a lower layer (or its own subpackages). The longest
// matching prefix decides a package's layer.
var layers = map[string]int{
	"ent":                   0,
	"internal/config":       0,
	"internal/pgcluster":    0,
	"migrations":            1,
	"internal/migrategen":   1,
	"internal/store":        1,
	"internal/ratelimit":    1,
	"internal/testdb":       2,
	"internal/gitserve":     0,
	"internal/audit":        2,
	"mailbox":               3,
	"account":               4,
	"desk":                  5,
	"registry":              5,
	"internal/seed":         6,
	"internal/bench":        0,
	"internal/dovecot":      0,
	"internal/hostilemail":  0,
	"internal/bench/ingest": 6,
	"web":                   7,
	"workers":               7,
	"cmd":                   8,
	"internal/archtest":     9,
}

func layerOf(rel string) (string, int, bool) {
	best, layer, found := "", 0, false
	for prefix, l := range layers {
		if (rel == prefix || strings.HasPrefix(rel, prefix+"/")) && len(prefix) > len(best) {
			best, layer, found = prefix, l, true
		}
	}
	return best, layer, found
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func TestImportsPointInward(t *testing.T) {
	cmd := exec.Command(goTool(), "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	checked := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(fields[0], module+"/")
		from, fromLayer, ok := layerOf(pkg)
		if !ok {
			t.Errorf("package %s is in no layer; add it to archtest's table", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			rel := strings.TrimPrefix(imp, module+"/")
			to, toLayer, ok := layerOf(rel)
			if !ok || to == from {
				continue
			}
			checked++
			if toLayer >= fromLayer {
				t.Errorf("%s imports %s: %s (layer %d) may only import layers below it, not %s (layer %d)", pkg, rel, from, fromLayer, to, toLayer)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no internal imports seen; is go list output as expected?")
	}
}
