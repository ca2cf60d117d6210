package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded static file with its content hash.
type asset struct {
	body        []byte
	hash        string
	contentType string
}

// assets are the embedded static files by name ("app.css"), hashed once
// at start-up so pages can link them with a cache-busting version.
type assets struct {
	files map[string]asset
}

func loadAssets() (*assets, error) {
	as := &assets{files: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		name := p[len("static/"):]
		as.files[name] = asset{body: body, hash: hex.EncodeToString(sum[:8]), contentType: ct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return as, nil
}

// url is the versioned URL of an asset, e.g. /static/app.css?v=1a2b….
func (as *assets) url(name string) string {
	a, ok := as.files[name]
	if !ok {
		// A missing asset is a programming error caught by the tests;
		// an unversioned link still works.
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + a.hash
}
