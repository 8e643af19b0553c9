package repogen

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/promoctl/promoctl/internal/fsutil"
)

// Directories Generate writes into; besides them it creates only
// .promoctl/.gitignore, which marks the repo root.
var Dirs = []string{"features", "plans", "customers", "promotions"}

// generator holds everything decided before files are written. Writing
// only reads it, so files are written in parallel.
type generator struct {
	cfg              Config
	features         []featureSpec
	metered, boolean []int // indexes into features by type
	plans            []planSpec
	planWeights      []int
	regularCustomers int
	dir              directory
	promos           []*promoSpec
}

// Generate writes a complete, valid config repo sized by cfg into dir,
// creating dir when needed. Files already in dir are overwritten, not
// removed: generate into an empty directory.
func Generate(dir string, cfg Config) error {
	cfg, err := cfg.normalized()
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	g := &generator{cfg: cfg, features: features(cfg.Features), plans: plans(cfg.Plans)}
	for i, f := range g.features {
		if f.metered {
			g.metered = append(g.metered, i)
		} else {
			g.boolean = append(g.boolean, i)
		}
	}
	for _, p := range g.plans {
		g.planWeights = append(g.planWeights, p.weight)
	}
	g.regularCustomers = cfg.Customers - len(hotCustomers)
	g.buildDirectory()
	g.shapePromotions()
	g.distributeGrants()

	for _, d := range Dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
	}
	// .promoctl/ marks the repo root for commands run in a sub-directory.
	if err := os.MkdirAll(filepath.Join(dir, fsutil.LockDir), 0o755); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	files := []file{{filepath.Join(fsutil.LockDir, ".gitignore"), func(w *bufio.Writer) { _, _ = w.WriteString(fsutil.LockIgnore) }}}
	for i := range g.features {
		f := &g.features[i]
		files = append(files, file{filepath.Join("features", f.key+".yaml"), func(w *bufio.Writer) { writeFeature(w, f) }})
	}
	for i := range g.plans {
		p := &g.plans[i]
		files = append(files, file{filepath.Join("plans", p.key+".yaml"), func(w *bufio.Writer) { g.writePlan(w, p) }})
	}
	for part := 0; part < g.customerFiles(); part++ {
		name := fmt.Sprintf("part-%04d.yaml", part+1)
		files = append(files, file{filepath.Join("customers", name), func(w *bufio.Writer) { g.writeCustomers(w, part) }})
	}
	for i, p := range g.promos {
		files = append(files, file{filepath.Join("promotions", p.id+".yaml"), func(w *bufio.Writer) { g.writePromotion(w, p, i) }})
	}
	return writeAll(dir, files)
}

// file is one file to write, relative to the repo root.
type file struct {
	path  string
	write func(*bufio.Writer)
}

func writeAll(dir string, files []file) error {
	jobs := make(chan file)
	errs := make(chan error, len(files))
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				if err := writeFile(filepath.Join(dir, f.path), f.write); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, f := range files {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	close(errs)
	return <-errs // nil when the channel is empty
}

func writeFile(path string, write func(*bufio.Writer)) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	w := bufio.NewWriterSize(out, 256<<10)
	write(w)
	if err := w.Flush(); err != nil {
		out.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeFeature(w *bufio.Writer, f *featureSpec) {
	w.WriteString("# " + f.name + ". Owner: platform team.\n")
	w.WriteString("kind: Feature\nkey: " + f.key + "\nname: " + f.name + "\n")
	if f.metered {
		w.WriteString("type: metered\nunit: " + f.unit + "\n")
	} else {
		w.WriteString("type: boolean\n")
	}
}

func (g *generator) writePlan(w *bufio.Writer, p *planSpec) {
	w.WriteString("# " + p.name + " plan: baseline entitlements. Prices live in the billing system.\n")
	w.WriteString("kind: Plan\nkey: " + p.key + "\nname: " + p.name + "\nentitlements:\n")
	for _, f := range g.features {
		if p.tier < f.minTier {
			continue
		}
		w.WriteString("  - feature: " + f.key + "\n")
		if !f.metered {
			continue
		}
		if f.key == HotFeature && p.tier == planLadder[len(planLadder)-1].tier {
			w.WriteString("    allowance: \"unlimited\"\n")
		} else {
			w.WriteString("    allowance: " + strconv.FormatInt(f.base*tierMultiplier[p.tier], 10) + "\n")
		}
		w.WriteString("    reset: " + string(f.reset) + "\n")
	}
}
