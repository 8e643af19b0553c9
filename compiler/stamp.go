package compiler

import "time"

// fileStamp identifies one version of a file on disk without reading it:
// device, inode, size, modification and change time. A reload reads a
// file again unless its stamp equals that of a read it can trust.
type fileStamp struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // Unix nanoseconds
}

// stampRecord is the stamp a file had when it was read, and whether a
// later load may skip reading it while its stamp stays the same.
type stampRecord struct {
	stamp   fileStamp
	trusted bool
}

// racyWindow is how long after a read a file's change time must lie
// before its stamp is trusted. The kernel stamps changes with a coarse
// clock, so a write made just after a read (in the same clock tick) can
// leave the stamp the read saw: such a "racily clean" file is read again
// by the next load (as git does with its index), and trusted once its
// change time is older than the read by this margin.
const racyWindow = 2 * time.Second

// recordStamp returns the record of a read that started at readStart.
func recordStamp(stamp fileStamp, readStart time.Time) stampRecord {
	return stampRecord{stamp: stamp, trusted: stamp.ctime < readStart.Add(-racyWindow).UnixNano()}
}
