package component

// Instance is one instantiation of a component: its core instances and its
// resource handle table. (Placeholder; the linker fills it in.)
type Instance struct{}
