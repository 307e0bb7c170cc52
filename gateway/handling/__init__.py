"""What every flow's handler works with: the message received (one value), the reply, the participant directory
and the clock in force, and journaling a message with its answers exactly once (including the one way a repeated
message is answered from the journal)."""
