package main

import (
	"path/filepath"

	"github.com/recoverydesk/recoverydesk/registry"
)

// newRegistry is the upload service: files under DATA_DIR/files, at most
// UPLOAD_MAX_SIZE each.
func newRegistry(rt *runtime) (*registry.Service, error) {
	return registry.NewService(registry.Options{
		Store:   rt.store,
		Dir:     filepath.Join(rt.cfg.DataDir, "files"),
		MaxSize: rt.cfg.UploadMaxSize,
	})
}
