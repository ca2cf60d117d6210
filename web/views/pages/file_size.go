package pages

import "fmt"

// formatFileSize writes a byte count as people read it: "812 bytes",
// "14 KB", "2.3 MB" (decimal units, as file managers mostly show).
func formatFileSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1000*1000:
		return fmt.Sprintf("%d KB", (n+500)/1000)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
}
