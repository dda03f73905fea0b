enum LinkPlaceholder {}
