package s3

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func seg(start, size int64) segment {
	return segment{key: fmt.Sprintf("%016x", start), start: start, size: size}
}

func TestStagingPieces(t *testing.T) {
	for _, tc := range []struct {
		name string
		segs []segment
		want []piece // keys are the segments' starts
	}{
		{"none", nil, nil},
		{"one", []segment{seg(0, 5)}, []piece{{"0000000000000000", 5, 0, 5}}},
		{"empty marker", []segment{seg(0, 0)}, nil},
		{"sequential", []segment{seg(0, 5), seg(5, 3)},
			[]piece{{"0000000000000000", 5, 0, 5}, {"0000000000000005", 3, 0, 3}}},
		{"later cuts earlier", []segment{seg(0, 12), seg(5, 2), seg(7, 1)},
			[]piece{{"0000000000000000", 12, 0, 5}, {"0000000000000005", 2, 0, 2}, {"0000000000000007", 1, 0, 1}}},
		{"cut by an empty segment", []segment{seg(0, 12), seg(5, 0)}, []piece{{"0000000000000000", 12, 0, 5}}},
		{"gap ends the run", []segment{seg(0, 5), seg(6, 3)}, []piece{{"0000000000000000", 5, 0, 5}}},
		{"no segment at 0", []segment{seg(3, 5)}, nil},
		{"gap after an empty segment", []segment{seg(0, 4), seg(4, 0), seg(9, 1)}, []piece{{"0000000000000000", 4, 0, 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &staging{segs: tc.segs}
			got := st.pieces()
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("pieces: got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	const M = 1 << 20
	copies := func(parts []part) (n int) {
		for _, p := range parts {
			if p.isCopy() {
				n++
			}
		}
		return n
	}
	// A push in one stream: all copies.
	var stream []piece
	for i := range 5 {
		stream = append(stream, piece{fmt.Sprint(i), segmentSize, 0, segmentSize})
	}
	stream = append(stream, piece{"last", 100, 0, 100})
	if parts := plan(stream); len(parts) != 6 || copies(parts) != 6 {
		t.Errorf("one stream: got %d parts, %d copies; want 6 copies", len(parts), copies(parts))
	}
	// Small pieces top up to minPart from a large one, whose rest is copied.
	parts := plan([]piece{{"a", 2 * M, 0, 2 * M}, {"b", 8 * M, 0, 8 * M}})
	if len(parts) != 2 || parts[0].size != minPart || !parts[1].isCopy() || parts[1].size != 5*M {
		t.Errorf("top-up: got %+v", parts)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int64{0, 1, 17, 4 * M, minPart - 1, minPart, minPart + 1, 6 * M, segmentSize - 1, segmentSize}
	for i := range 2000 {
		var pieces []piece
		var total int64
		for j := range rng.IntN(12) {
			n := sizes[rng.IntN(len(sizes))]
			if rng.IntN(3) == 0 {
				n = rng.Int64N(segmentSize + 1)
			}
			off := rng.Int64N(3)
			pieces = append(pieces, piece{fmt.Sprint(j), off + n + rng.Int64N(2), off, n})
			total += n
		}
		parts := plan(pieces)
		checkPlan(t, fmt.Sprint("random #", i), pieces, parts, total)
	}
}

// checkPlan checks that parts hold the bytes of pieces, in order, in parts
// S3 takes and the node can buffer.
func checkPlan(t *testing.T, name string, pieces []piece, parts []part, total int64) {
	t.Helper()
	var fromParts []piece
	var sum int64
	for i, p := range parts {
		var n int64
		for _, pc := range p.pieces {
			n += pc.n
			fromParts = append(fromParts, pc)
		}
		sum += n
		switch {
		case n != p.size || n == 0:
			t.Fatalf("%s: part %d: size %d, pieces hold %d", name, i, p.size, n)
		case i < len(parts)-1 && p.size < minPart:
			t.Fatalf("%s: part %d of %d: %d bytes, below S3's minimum", name, i, len(parts), p.size)
		case !p.isCopy() && p.size > segmentSize:
			t.Fatalf("%s: part %d: %d bytes through the node, over %d", name, i, p.size, segmentSize)
		case p.isCopy() && p.pieces[0].off+p.size > p.pieces[0].objSize:
			t.Fatalf("%s: part %d: copy beyond its object", name, i)
		}
	}
	if sum != total {
		t.Fatalf("%s: parts hold %d bytes, pieces %d", name, sum, total)
	}
	if got, want := fmt.Sprint(merge(fromParts)), fmt.Sprint(merge(pieces)); got != want {
		t.Fatalf("%s: parts cover %s, pieces %s", name, got, want)
	}
}

// merge joins adjacent stretches of one object and drops empty ones.
func merge(ps []piece) []piece {
	var out []piece
	for _, p := range ps {
		if p.n == 0 {
			continue
		}
		if k := len(out) - 1; k >= 0 && out[k].key == p.key && out[k].off+out[k].n == p.off {
			out[k].n += p.n
			continue
		}
		out = append(out, p)
	}
	return out
}
