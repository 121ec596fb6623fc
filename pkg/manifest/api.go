package manifest

// This file is the package's contract; the implementation lives in the
// other files of the package.

// Error is one problem found in a manifest, located in its file.
// Error() renders as "spin.toml:12:3: message" (file:line:column: message);
// the position is omitted when unknown (Line == 0).
type Error struct {
	File string
	Pos  Position
	Msg  string
}

// Errors collects every problem found in one manifest, in file order.
// Error() renders one per line.
type Errors []*Error
