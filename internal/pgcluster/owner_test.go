package pgcluster_test

import (
	"os"
	"syscall"
)

func ownerUID(info os.FileInfo) uint32 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return 0
}
