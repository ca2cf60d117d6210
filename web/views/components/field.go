package components

import "strings"

// Field is one labelled form control with its hint and its error. The
// error sits next to the control and is tied to it by aria-describedby, so
// a screen reader reads it when the control gets focus.
type Field struct {
	// Name is the form field name; the element id is derived from it.
	Name  string
	Label string
	// Type is the input type ("text", "email", "password"…); empty means
	// "text". Ignored when Rows > 0.
	Type  string
	Value string
	// Error is the message shown when the submitted value was refused.
	Error string
	// Hint is an optional line of help under the label.
	Hint         string
	Autocomplete string
	Required     bool
	// Rows > 0 renders a textarea of that many rows.
	Rows int
}

// ID is the id of the control, the target of the label's for attribute.
func (f Field) ID() string { return "field-" + f.Name }

func (f Field) errorID() string { return f.ID() + "-error" }

func (f Field) hintID() string { return f.ID() + "-hint" }

func (f Field) inputType() string {
	if f.Type == "" {
		return "text"
	}
	return f.Type
}

// describedBy lists the ids of the hint and the error, in reading order.
func (f Field) describedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.hintID())
	}
	if f.Error != "" {
		ids = append(ids, f.errorID())
	}
	return strings.Join(ids, " ")
}
