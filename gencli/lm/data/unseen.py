"""A short text no model here was trained on, written for gencli: the second text of the report's
compression section (L6), where a model that adapts to what it reads must show it gains on text it never saw.

It is an original story in the manner of a Victorian children's book, so that a model trained on
Alice meets familiar words in unfamiliar company (new names that recur, as names do).
"""

UNSEEN_TEXT = """\
THE LIGHTHOUSE KEEPER'S CLOCK

Martha Pim lived with her grandfather at the top of the lighthouse, where the wind came in at every
window and the gulls came in whenever the wind did. Her grandfather kept the lamp, and Martha kept
the clock, which was a very old clock with a very bad temper.

"It is ten minutes slow," said her grandfather one morning, looking at it over his spectacles.

"It is not slow at all," said the clock, which had never spoken before. "It is the rest of the
world that is ten minutes fast, and I have no intention of hurrying after it."

Martha was so surprised that she put the kettle on the windowsill instead of the stove, and a gull
looked into it, and then looked at Martha, as if to say that it had expected better of her.

"Clocks do not talk," said Martha, when she had got her breath again.

"Grandfathers do not keep lighthouses," said the clock, "and yet here he is, keeping one. I think
you will find that most things do what they have a mind to, once nobody is looking."

Her grandfather had gone down the stairs to fetch the oil, so there was nobody looking but Martha
and the gull, and the gull did not seem to count. Martha sat down on the little stool by the clock
and considered the matter.

"If you are ten minutes behind the world," she said at last, "then everything happens to you ten
minutes late. Breakfast, and the tide, and the ships going by."

"Precisely," said the clock, and it sounded pleased. "By the time a ship has passed the rocks, I
have only just begun to worry about it. It saves a great deal of trouble. The worry is all used up
before it reaches me."

"But the lamp," said Martha. "Grandfather lights the lamp when you say it is dark."

The clock said nothing for a while, and its pendulum went to and fro, to and fro, as if it were
shaking its head very slowly.

"Then for ten minutes every evening," said Martha, "the ships are in the dark, and nobody knows it
but you."

"And now you," said the clock, rather crossly. "That is the trouble with telling people things."

Martha Pim got up from the stool. She opened the little glass door of the clock, which squeaked,
and she pushed the long hand forward, ten minutes exactly, while the clock grumbled and the gull
flapped its wings and the wind came in at every window at once.

"There," she said. "Now you are in the same world as the rest of us."

"It is a very hurried world," said the clock, "and I shall not like it."

But that evening her grandfather lit the lamp at the proper time, and a ship went safely past the
rocks, and the clock said nothing more about it, then or ever. Only sometimes, when Martha wound it
on a Sunday, it ticked a little louder than it needed to, as if to remind her that it had been
right about the worry, at least.
"""
