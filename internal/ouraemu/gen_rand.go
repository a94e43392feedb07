package ouraemu

import "math"

// genRand is a small splitmix64 generator. The emulator carries its own so the data stays
// the same across Go releases, which may change math/rand's algorithms.
type genRand struct{ s uint64 }

// mix64 is the splitmix64 finaliser: a fast, well-spread 64-bit hash.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// streamHash names a stream of randomness (FNV-1a of the name).
func streamHash(name string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return h
}

// newGenRand returns the generator of one (seed, stream, n) triple; n is usually a day.
func newGenRand(seed int64, stream string, n int64) genRand {
	return genRand{s: seriesHash(seed, streamHash(stream), n)}
}

// seriesHash hashes one (seed, stream, n) triple; time series use it directly per row.
func seriesHash(seed int64, stream uint64, n int64) uint64 {
	return mix64(mix64(uint64(seed)^0x5851F42D4C957F2D) ^ mix64(stream) ^ mix64(uint64(n)*0xD1B54A32D192ED03+1))
}

// drawInt returns the first intn(n) of a (seed, stream, i) generator: for one-off choices.
func drawInt(seed int64, stream string, i int64, n int) int {
	r := newGenRand(seed, stream, i)
	return r.intn(n)
}

func (r *genRand) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	return mix64(r.s)
}

// intn returns a number in [0, n); n must be positive.
func (r *genRand) intn(n int) int {
	if n <= 1 {
		return 0
	}
	return int((r.next() >> 32) * uint64(n) >> 32)
}

// between returns a number in [lo, hi].
func (r *genRand) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.intn(hi-lo+1)
}

// float returns a number in [0, 1).
func (r *genRand) float() float64 {
	return float64(r.next()>>11) / (1 << 53)
}

// uniform returns a number in [lo, hi).
func (r *genRand) uniform(lo, hi float64) float64 {
	return lo + (hi-lo)*r.float()
}

// chance is true with probability p.
func (r *genRand) chance(p float64) bool {
	return r.float() < p
}

// norm returns a standard normal deviate (Box-Muller).
func (r *genRand) norm() float64 {
	u := 1 - r.float() // (0, 1]
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

// pick returns one of the choices, weighted by weights (same length).
func (r *genRand) pick(choices []string, weights []int) string {
	return choices[r.pickIndex(weights)]
}

// pickIndex returns an index into weights, chosen in proportion to the weights.
func (r *genRand) pickIndex(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.intn(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

const hexDigits = "0123456789abcdef"

// uuid returns a random UUID in version-4 form, e.g. 93b2a8ec-ccdb-49bf-84f5-d06a77873f25.
func (r *genRand) uuid() string {
	var raw [16]byte
	a, b := r.next(), r.next()
	for i := range 8 {
		raw[i] = byte(a >> (8 * i))
		raw[8+i] = byte(b >> (8 * i))
	}
	raw[6] = raw[6]&0x0f | 0x40
	raw[8] = raw[8]&0x3f | 0x80
	var out [36]byte
	j := 0
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexDigits[c>>4], hexDigits[c&0x0f]
		j += 2
	}
	return string(out[:])
}

// hex returns n random lower-case hex digits.
func (r *genRand) hex(n int) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = hexDigits[r.intn(16)]
	}
	return string(out)
}

// hashUnit turns a hash into a number in [0, 1).
func hashUnit(h uint64) float64 {
	return float64(h>>11) / (1 << 53)
}

// clampInt limits v to [lo, hi].
func clampInt(v, lo, hi int) int {
	return max(lo, min(hi, v))
}

// roundTo rounds v to the given number of decimals.
func roundTo(v float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(v*p) / p
}
