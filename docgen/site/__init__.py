"""The site around the pages: assembly, navigation, theme, search, publishing, the atomic write."""
