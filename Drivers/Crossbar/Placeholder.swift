enum CrossbarPlaceholder {}
