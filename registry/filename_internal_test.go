package registry

import (
	"strings"
	"testing"
)

func TestCheckFilename(t *testing.T) {
	tests := []struct {
		filename, filetype, name, version string
		// wantErr is "" for a valid name, else a part of the message.
		wantErr string
	}{
		{"demo-1.0.tar.gz", FileTypeSdist, "demo", "1.0", ""},
		{"demo-1.0.zip", FileTypeSdist, "demo", "1.0", ""},
		{"Demo_Pkg-2.1rc1.tar.gz", FileTypeSdist, "demo-pkg", "2.1rc1", ""},
		// Old sdists keep the name as typed, hyphens and all.
		{"demo-pkg-0.3.tar.gz", FileTypeSdist, "Demo.Pkg", "0.3", ""},
		{"demo-1.0.post1.tar.gz", FileTypeSdist, "demo", "1.0.post1", ""},
		{"demo_pkg-1.0-py3-none-any.whl", FileTypeWheel, "demo-pkg", "1.0", ""},
		{"demo_pkg-1.0-1-cp312-cp312-manylinux_2_17_x86_64.whl", FileTypeWheel, "demo.pkg", "1.0", ""},
		{"demo-1.0_1-py3-none-any.whl", FileTypeWheel, "demo", "1.0-1", ""},
		{"demo-1.0+local.7-py3-none-any.whl", FileTypeWheel, "demo", "1.0+local.7", ""},

		{"other-1.0.tar.gz", FileTypeSdist, "demo", "1.0", "does not match the project demo"},
		{"other-1.0-py3-none-any.whl", FileTypeWheel, "demo", "1.0", "does not match the project demo"},
		{"demo-1.1.tar.gz", FileTypeSdist, "demo", "1.0", "does not match the version 1.0"},
		{"demo-1.1-py3-none-any.whl", FileTypeWheel, "demo", "1.0", "does not match the version 1.0"},
		{"demo-1.0.tar.bz2", FileTypeSdist, "demo", "1.0", "an sdist is a .tar.gz or .zip file"},
		{"demo-1.0.tar.gz", FileTypeWheel, "demo", "1.0", "a wheel is a .whl file"},
		{"demo-1.0-py3-none-any.whl", FileTypeSdist, "demo", "1.0", "an sdist is a .tar.gz or .zip file"},
		{"demo-1.0-any.whl", FileTypeWheel, "demo", "1.0", "NAME-VERSION(-BUILD)-PYTHON-ABI-PLATFORM.whl"},
		{"demo-1.0-x1-py3-none-any.whl", FileTypeWheel, "demo", "1.0", "build tag"},
		{"demo-1.0.egg", "bdist_egg", "demo", "1.0", `Invalid filetype "bdist_egg"`},
		{"../demo-1.0.tar.gz", FileTypeSdist, "demo", "1.0", "Invalid file name"},
		{"demo 1.0.tar.gz", FileTypeSdist, "demo", "1.0", "Invalid file name"},
		{"", FileTypeSdist, "demo", "1.0", "no file name"},
		{strings.Repeat("d", 250) + "-1.0.tar.gz", FileTypeSdist, "demo", "1.0", "at most 255 characters"},
	}
	for _, tt := range tests {
		err := checkFilename(tt.filename, tt.filetype, tt.name, tt.version)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q (%s %s %s): %v", tt.filename, tt.filetype, tt.name, tt.version, err)
		case tt.wantErr != "" && err == nil:
			t.Errorf("%q (%s %s %s) accepted, want %q", tt.filename, tt.filetype, tt.name, tt.version, tt.wantErr)
		case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
			t.Errorf("%q: %v, want %q in the message", tt.filename, err, tt.wantErr)
		}
	}
}

func TestCheckNameAndVersion(t *testing.T) {
	for _, name := range []string{"a", "demo", "Demo.Pkg_2", "x-y"} {
		if err := checkProjectName(name); err != nil {
			t.Errorf("name %q: %v", name, err)
		}
	}
	for _, name := range []string{"", "-demo", "demo-", "de mo", "dé", strings.Repeat("a", 201)} {
		if err := checkProjectName(name); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	for _, v := range []string{"1", "1.0", "2!1.0", "1.0a1", "1.0.post2", "1.0-1", "1.0.dev3", "v1.2", "1.0+abc.5"} {
		if err := checkVersion(v); err != nil {
			t.Errorf("version %q: %v", v, err)
		}
	}
	for _, v := range []string{"", "one", "1.0-beta-gamma", "1..0", "1.0 ", strings.Repeat("1.", 60) + "1"} {
		if err := checkVersion(v); err == nil {
			t.Errorf("version %q accepted", v)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{
		100 << 20:  "100 MiB",
		1 << 30:    "1 GiB",
		1536:       "1536 bytes",
		2 << 10:    "2 KiB",
		10_000_000: "10000000 bytes (9.5 MiB)",
	} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
