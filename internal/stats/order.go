package stats

// RoundOrder is the order in which n conditions (candidate builds,
// batch sizes, tuning values) run in round r of an alternated
// measurement: each round starts one condition later, so over n rounds
// every condition takes every place once and none always follows the
// same neighbour. A call right after a heavy one (a 7B's T = 8 batch, a
// session whose pool just left the caches in its state) can read a few
// percent slower; with a fixed order that place would belong to one
// condition in every round. Two conditions give gate.ABBA's A B, B A.
func RoundOrder(n, r int) []int {
	o := make([]int, n)
	for j := range o {
		o[j] = (j + r) % n
	}
	return o
}
