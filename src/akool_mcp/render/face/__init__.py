"""Real faces made to talk: landmarks found in a user's photo or video, the mouth and eyes moved on them."""
