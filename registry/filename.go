package registry

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/recoverydesk/recoverydesk/account"
)

// The names of distribution files. A file's name repeats the project's
// name and the version, and installers trust it: a file named for another
// project or version would be found by people who never asked for it, so
// the name must agree with both.
//
//	sdist: NAME-VERSION.tar.gz or NAME-VERSION.zip
//	wheel: NAME-VERSION(-BUILD)?-PYTHON-ABI-PLATFORM.whl (PEP 427)
//
// Wheels escape their name and version (runs of "-", "." and "_" in the
// name become "_", "-" in the version becomes "_"), and old sdists kept
// the name as typed, so names are compared normalised (PEP 503) and the
// version as written or escaped.

// File types the upload protocol's filetype field may name.
const (
	FileTypeSdist = "sdist"
	FileTypeWheel = "bdist_wheel"
)

// Limits of the columns that hold names.
const (
	maxProjectName = 200
	maxVersion     = 100
	maxFilename    = 255
)

// projectNameRE is PEP 508's name: letters and digits, with ".", "_" and
// "-" inside.
var projectNameRE = regexp.MustCompile(`(?i)^([a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$`)

// versionRE is PEP 440's version pattern (packaging's VERSION_PATTERN),
// which also admits the spellings that normalise to a canonical version.
var versionRE = regexp.MustCompile(`(?i)^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*` +
	`(?:[-_.]?(?:alpha|a|beta|b|preview|pre|c|rc)[-_.]?[0-9]*)?` +
	`(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?` +
	`(?:[-_.]?dev[-_.]?[0-9]*)?` +
	`(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$`)

// filenameRE is what a distribution file name may hold at all; it keeps
// path separators, spaces and control characters out.
var filenameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+!-]*$`)

// wheelTagRE is one compressed tag set of a wheel's name (PEP 425).
var wheelTagRE = regexp.MustCompile(`^[A-Za-z0-9_.]+$`)

// checkProjectName refuses a name that is not a valid project name.
func checkProjectName(name string) error {
	if name == "" {
		return invalid("Missing the required field name (the project's name).")
	}
	if len(name) > maxProjectName || !projectNameRE.MatchString(name) {
		return invalid(fmt.Sprintf("Invalid project name %q: a name starts and ends with a letter or digit, "+
			"holds only letters, digits, '.', '_' and '-', and has at most %d characters.", name, maxProjectName))
	}
	return nil
}

// checkVersion refuses a version that is not a PEP 440 version.
func checkVersion(version string) error {
	if version == "" {
		return invalid("Missing the required field version.")
	}
	if len(version) > maxVersion || !versionRE.MatchString(version) {
		return invalid(fmt.Sprintf("Invalid version %q: it must be a PEP 440 version such as 1.0, 2.1rc1 or 1.0.post2.", version))
	}
	return nil
}

// checkFilename refuses a file name that does not fit the file type, the
// project name or the version. name and version are already valid.
func checkFilename(filename, fileType, name, version string) error {
	if filename == "" {
		return invalid("The content field has no file name.")
	}
	if len(filename) > maxFilename || !filenameRE.MatchString(filename) {
		return invalid(fmt.Sprintf("Invalid file name %q: it may hold only letters, digits, '.', '_', '-', '+' and '!', "+
			"and has at most %d characters.", filename, maxFilename))
	}
	var nameField, versionField string
	switch fileType {
	case FileTypeSdist:
		stem, ok := cutAnySuffix(filename, ".tar.gz", ".zip")
		if !ok {
			return invalid(fmt.Sprintf("Invalid file name %q: an sdist is a .tar.gz or .zip file.", filename))
		}
		// The name may itself hold "-" (old sdists), so the version is
		// found from the end.
		for _, v := range versionSpellings(version) {
			if prefix, ok := cutSuffixFold(stem, "-"+v); ok {
				nameField, versionField = prefix, v
				break
			}
		}
		if versionField == "" {
			return invalid(fmt.Sprintf("The file name %q does not match the version %s: an sdist is named NAME-%s.tar.gz.",
				filename, version, version))
		}
	case FileTypeWheel:
		stem, ok := strings.CutSuffix(filename, ".whl")
		if !ok {
			return invalid(fmt.Sprintf("Invalid file name %q: a wheel is a .whl file.", filename))
		}
		parts := strings.Split(stem, "-")
		if err := checkWheelParts(filename, parts); err != nil {
			return err
		}
		nameField, versionField = parts[0], parts[1]
		if !matchesVersion(versionField, version) {
			return invalid(fmt.Sprintf("The file name %q does not match the version %s: its version part is %s.",
				filename, version, versionField))
		}
	default:
		return invalid(fmt.Sprintf("Invalid filetype %q: this index accepts %s and %s.", fileType, FileTypeSdist, FileTypeWheel))
	}
	if account.NormalizeProjectName(nameField) != account.NormalizeProjectName(name) {
		return invalid(fmt.Sprintf("The file name %q does not match the project %s: it must start with the project's name.",
			filename, name))
	}
	return nil
}

// checkWheelParts checks the dash-separated fields of a wheel's name.
func checkWheelParts(filename string, parts []string) error {
	if len(parts) != 5 && len(parts) != 6 {
		return invalid(fmt.Sprintf("Invalid wheel file name %q: a wheel is named "+
			"NAME-VERSION(-BUILD)-PYTHON-ABI-PLATFORM.whl.", filename))
	}
	if len(parts) == 6 && (parts[2] == "" || parts[2][0] < '0' || parts[2][0] > '9') {
		return invalid(fmt.Sprintf("Invalid wheel file name %q: the build tag %q must start with a digit.", filename, parts[2]))
	}
	for _, tag := range parts[len(parts)-3:] {
		if !wheelTagRE.MatchString(tag) {
			return invalid(fmt.Sprintf("Invalid wheel file name %q: %q is not a Python, ABI or platform tag.", filename, tag))
		}
	}
	return nil
}

// versionSpellings are the ways a file name may write version: as is, and
// escaped as in wheel names.
func versionSpellings(version string) []string {
	escaped := strings.ReplaceAll(version, "-", "_")
	if escaped == version {
		return []string{version}
	}
	return []string{version, escaped}
}

// matchesVersion says whether a file name's version part spells version.
func matchesVersion(part, version string) bool {
	for _, v := range versionSpellings(version) {
		if strings.EqualFold(part, v) {
			return true
		}
	}
	return false
}

// cutSuffixFold is strings.CutSuffix ignoring case.
func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

func cutAnySuffix(s string, suffixes ...string) (string, bool) {
	for _, suf := range suffixes {
		if stem, ok := strings.CutSuffix(s, suf); ok {
			return stem, true
		}
	}
	return s, false
}
