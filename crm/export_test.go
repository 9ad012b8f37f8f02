package crm

// Internals the external tests (package crm_test) check against.
const ParentBatch = parentBatch
