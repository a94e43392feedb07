//go:build race

package config

// raceEnabled: the race detector slows encoding/json about tenfold, so timing bounds widen.
const raceEnabled = true
