package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// maxUploadSize bounds UPLOAD_MAX_SIZE: the HTTP server reads a request
// of up to this much (a large file part spooled to a temporary file)
// before the handler runs.
const maxUploadSize = 10 << 30

// sizeUnits are the suffixes parseSize knows: binary units, and decimal
// ones for those who write MB.
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9},
	{"b", 1},
}

// parseSize reads a byte count: "104857600", "100MiB", "100 MiB", "1.5GB".
func parseSize(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	factor := int64(1)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, factor = strings.TrimSpace(num), u.factor
			break
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/factor {
			return 0, errors.New("size out of range")
		}
		return n * factor, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f*float64(factor) > math.MaxInt64/2 {
		return 0, errors.New("not a size")
	}
	return int64(f * float64(factor)), nil
}
