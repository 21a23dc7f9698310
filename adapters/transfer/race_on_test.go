//go:build race

package transfer

// raceOn says the race detector is on: the streaming test writes fewer
// tasks (its instrumentation makes 100,000 take a minute on two cores).
const raceOn = true
