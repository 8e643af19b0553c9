package snapshot

import (
	"encoding/json"
	"fmt"
)

// Dump renders every row of every table, in index order, for tests that
// compare two snapshots row for row.
func Dump(s *Snapshot) map[string][]string {
	out := map[string][]string{}
	for name := range snapshotSchema().Tables {
		it, err := s.read.Get(name, IndexID)
		if err != nil {
			panic(fmt.Sprintf("dump %s: %v", name, err))
		}
		rows := []string{}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			b, err := json.Marshal(raw)
			if err != nil {
				panic(fmt.Sprintf("dump %s: %v", name, err))
			}
			rows = append(rows, string(b))
		}
		out[name] = rows
	}
	return out
}
