package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Load reads every option through getenv (os.Getenv in production), applies
// defaults and validates. The first bad or missing value is returned as an
// *Error naming the variable. In ModeDev a missing SECRET_KEY is generated
// once and kept in DATA_DIR/secret_key.
func Load(mode Mode, getenv func(string) string) (Config, error) {
	c := Config{Mode: mode}
	for _, o := range Options() {
		v := strings.TrimSpace(getenv(o.Name))
		if v == "" && slices.Contains(o.RequiredIn, mode) {
			return Config{}, &Error{Var: o.Name, Reason: "is required for this command: " + o.Help}
		}
		if v == "" {
			v = o.Default
		}
		if err := o.set(&c, v); err != nil {
			return Config{}, &Error{Var: o.Name, Value: v, Reason: err.Error()}
		}
	}
	if c.SecretKey == nil {
		if mode != ModeDev && mode != ModeTool {
			return Config{}, &Error{Var: "SECRET_KEY", Reason: "is required for this command"}
		}
		key, err := devSecretKey(c.DataDir)
		if err != nil {
			return Config{}, &Error{Var: "SECRET_KEY", Reason: err.Error()}
		}
		c.SecretKey = key
	}
	return c, nil
}

// devSecretKey returns the key kept in dir/secret_key, creating it with
// 256 random bits the first time, so dev sessions survive restarts.
func devSecretKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, "secret_key")
	b, err := os.ReadFile(path)
	if err == nil {
		key := []byte(strings.TrimSpace(string(b)))
		if len(key) < 32 {
			return nil, fmt.Errorf("%s holds fewer than 32 characters; delete it to generate a new key", path)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	key := []byte(hex.EncodeToString(raw))
	// Write a temporary file and hard-link it into place: the link fails if
	// another process got there first, and nobody ever reads a half-written
	// key. Then both use whichever key won.
	tmp, err := os.CreateTemp(dir, ".secret_key-*")
	if err != nil {
		return nil, fmt.Errorf("create key in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(key, '\n')); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return devSecretKey(dir)
}
