/**
 * The bundled corpus (written for this repository): the bundled model's statistics come from these lines,
 * and the validator's prompts are drawn from the topics and templates below. No download.
 */
export const CORPUS_LINES: readonly string[] = [
  'The river runs past the old mill and slows down where the valley opens.',
  'A good map shows the roads, the rivers and the small towns between them.',
  'Bread rises when the yeast is warm and the dough has time to rest.',
  'The train leaves the station at noon and reaches the coast before dark.',
  'Bees carry pollen from flower to flower and keep the garden alive.',
  'A careful builder checks the level of every stone before the next one goes down.',
  'The library opens early on Monday and stays open late on Thursday.',
  'Rain on the roof makes a quiet sound that helps the children sleep.',
  'The market sells apples, pears, cheese and fresh bread every morning.',
  'A compass points north because the earth behaves like a large magnet.',
  'The teacher asked the class to read the story and write a short answer.',
  'Light travels faster than sound, so we see the storm before we hear it.',
  'The bridge was painted red so that ships could see it in the fog.',
  'Water boils at a lower temperature high in the mountains.',
  'The cat sleeps in the sun by the window for most of the afternoon.',
  'A small boat can cross the lake when the wind is calm.',
  'The farmer plants wheat in the autumn and harvests it in the summer.',
  'Good code is easy to read, easy to test and easy to change.',
  'A network sends messages in small packets that find their own way.',
  'The model reads the prompt one token at a time and predicts the next one.',
  'The validator checks the answer and the miner earns a reward when it is correct.',
  'Every block on the chain records the weights that the validators have set.',
  'The old clock in the tower strikes twelve times at midnight.',
  'Snow covers the hills in winter and melts into the river in spring.',
  'A kind word can change the mood of a long and difficult day.',
  'The recipe needs two cups of flour, one egg and a little salt.',
  'The museum keeps old tools, maps and letters from the first settlers.',
  'Stars are easier to see far from the lights of the city.',
  'The runner trained every morning and finished the race in good time.',
  'A clear question usually gets a clear answer.',
  'The garden needs water in the evening when the sun is low.',
  'The ship carried tea, cotton and spices across the ocean.',
  'Birds fly south when the days grow short and the nights turn cold.',
  'The engineer measured the load twice before she signed the plan.',
  'A warm cup of tea is the best way to start a cold morning.',
  'The forest is quiet at dawn until the first birds begin to sing.',
  'Numbers can be added, multiplied and compared in many useful ways.',
  'The city built a new park with trees, benches and a small pond.',
  'Honest work is checked, measured and paid for in a fair market.',
  'The wind turns the blades of the mill and the stones grind the grain.',
];

export const TOPICS: readonly string[] = [
  'rivers', 'bread', 'trains', 'bees', 'libraries', 'rain', 'markets', 'compasses', 'bridges', 'mountains',
  'boats', 'farming', 'networks', 'clocks', 'snow', 'museums', 'stars', 'gardens', 'ships', 'birds',
  'forests', 'numbers', 'parks', 'windmills', 'tea',
];

export const SYSTEM_PROMPTS: readonly string[] = [
  'You are a helpful assistant.',
  'You answer briefly and plainly.',
  'You are a patient teacher.',
  'You explain things to a child.',
];

export const QUESTION_TEMPLATES: readonly string[] = [
  'Tell me something about {topic}.',
  'Why do people care about {topic}?',
  'Write one sentence about {topic}.',
  'What should a beginner know about {topic}?',
  'Describe {topic} in a few words.',
];
