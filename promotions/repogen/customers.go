package repogen

import (
	"bufio"
	"fmt"
	"strconv"
)

// customerAttrs are the properties of a regular customer that eligibility
// looks at; they are drawn first from the customer's own generator, so the
// eligibility index and the file writer see the same values.
type customerAttrs struct {
	plan, region, segment int
}

func drawCustomer(r *rng, planWeights []int) customerAttrs {
	return customerAttrs{plan: r.pick(planWeights), region: r.pick(regionWeights), segment: r.pick(segmentWeights)}
}

// customerID names regular customer i (0-based).
func customerID(i int) string { return fmt.Sprintf("cus_%07d", i+1) }

// cellOf buckets customers by everything eligibility can ask about, so a
// promotion samples only customers it may be granted to.
func cellOf(a customerAttrs) int { return (a.plan*len(regions)+a.region)*len(segments) + a.segment }

func cellAttrs(cell int) customerAttrs {
	return customerAttrs{
		segment: cell % len(segments),
		region:  cell / len(segments) % len(regions),
		plan:    cell / len(segments) / len(regions),
	}
}

// directory indexes the regular customers by cell. The first 1% of each
// cell (at least one) are "heavy" customers that collect many promotions.
type directory struct {
	cells [][]int32
}

func (g *generator) buildDirectory() {
	g.dir.cells = make([][]int32, len(g.plans)*len(regions)*len(segments))
	for i := 0; i < g.regularCustomers; i++ {
		r := newRNG(g.cfg.Seed, streamCustomer, uint64(i))
		c := cellOf(drawCustomer(&r, g.planWeights))
		g.dir.cells[c] = append(g.dir.cells[c], int32(i))
	}
}

func heavyCount(n int) int { return (n + 99) / 100 }

// customerFiles is how many files the directory is split into.
func (g *generator) customerFiles() int {
	return (g.cfg.Customers + g.cfg.CustomersPerFile - 1) / g.cfg.CustomersPerFile
}

// writeCustomers writes part k (0-based) of the directory. Entry positions
// run over the hot customers first, then the regular ones.
func (g *generator) writeCustomers(w *bufio.Writer, part int) {
	from := part * g.cfg.CustomersPerFile
	to := min(from+g.cfg.CustomersPerFile, g.cfg.Customers)
	fmt.Fprintf(w, "# Customer directory, part %d of %d (entries %d to %d). Synced from billing.\n",
		part+1, g.customerFiles(), from+1, to)
	w.WriteString("#\n# attributes:\n#   region:  eu | us | apac | latam\n#   segment: smb | midmarket | enterprise\n")
	w.WriteString("#   industry (optional): free text\n")
	w.WriteString("kind: Customers\ncustomers:\n")
	for pos := from; pos < to; pos++ {
		if pos < len(hotCustomers) {
			h := hotCustomers[pos]
			w.WriteString("  # Benchmark customer: holds " + strconv.Itoa(h.Contributing) + " " + HotFeature + " promotions.\n")
			w.WriteString("  - id: " + h.ID + "\n    name: Hot Path " + strconv.Itoa(h.Contributing) + "\n")
			w.WriteString("    email: perf@example.com\n    plan: " + HotPlan + "\n")
			w.WriteString("    attributes: {region: " + regions[hotRegion] + ", segment: " + segments[hotSegment] + "}\n")
			continue
		}
		i := pos - len(hotCustomers)
		r := newRNG(g.cfg.Seed, streamCustomer, uint64(i))
		a := drawCustomer(&r, g.planWeights)
		adj, noun := nameAdjectives[r.intn(len(nameAdjectives))], nameNouns[r.intn(len(nameNouns))]
		suffix := nameSuffixes[r.intn(len(nameSuffixes))]
		w.WriteString("  - id: " + customerID(i) + "\n    name: " + adj + " " + noun + suffix + "\n")
		if !r.chance(8) {
			w.WriteString("    email: " + emailRoles[r.intn(len(emailRoles))] + "@" + slug(adj) + "-" + slug(noun) +
				"-" + strconv.Itoa(i+1) + ".example.com\n")
		}
		w.WriteString("    plan: " + g.plans[a.plan].key + "\n")
		w.WriteString("    attributes: {region: " + regions[a.region] + ", segment: " + segments[a.segment])
		if r.chance(20) {
			w.WriteString(", industry: " + industries[r.intn(len(industries))])
		}
		w.WriteString("}\n")
	}
}

func slug(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
