package compiler

import (
	"io/fs"
	"syscall"
)

// stampOf reads the stamp of a file from its stat. The change time is set
// by the kernel on every write, rename or link and cannot be set back by
// the user (unlike the modification time, which tar, cp -p and Nix stores
// fix), and the inode tells a new file at the same path from the old one.
func stampOf(info fs.FileInfo) (fileStamp, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || info.ModTime().IsZero() {
		return fileStamp{}, false
	}
	ctimeSec, ctimeNsec := st.Ctim.Unix()
	return fileStamp{
		dev:   uint64(st.Dev), //nolint:unconvert // uint32 on some platforms
		ino:   uint64(st.Ino), //nolint:unconvert // uint32 on some platforms
		size:  info.Size(),
		mtime: info.ModTime().UnixNano(),
		ctime: ctimeSec*1e9 + ctimeNsec,
	}, true
}
