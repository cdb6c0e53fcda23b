"""`earshot demo`: the tour, the day that follows, and the open networks' visit."""
