//go:build race

package oura_test

// raceDetector is true under -race, where inflating and scanning 64 MiB takes half a minute.
const raceDetector = true
