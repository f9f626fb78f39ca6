package oaiindex

// SetBuildSizes sets the puts of a staged build's transactions and the
// memory of a first build's queues, until the returned function restores
// them: small, a test catalog spans several transactions and runs.
func SetBuildSizes(chunk, budget int) (restore func()) {
	oldChunk, oldBudget := stageChunk, freshBudget
	stageChunk, freshBudget = chunk, budget
	return func() { stageChunk, freshBudget = oldChunk, oldBudget }
}
