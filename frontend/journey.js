// The journey screen: the touchpoints of the customer journey in order (the "corridor"), each
// coloured by its NPS and marked with the tone of its comments, so a team sees where it breaks.

import { $, SMALL_SAMPLE, count, el, npsBand, npsText, num, sampleSize, setTime, timeOf, toneOf } from './dom.js';
import { N_, formatNumber, formatPercent, t, tn } from './i18n.js';
import { themeName } from './themes.js';

const NONE = { hour: N_('No responses in the last hour yet.'), today: N_('No responses today yet.'), '7d': N_('No responses in 7 days yet.') };
// The tone of a step's comments, by toneOf's answer, with how many comments it is read from.
const TONE_IN = {
  Positive: (n) => tn('positive tone in {n} comment', 'positive tone in {n} comments', n),
  Negative: (n) => tn('negative tone in {n} comment', 'negative tone in {n} comments', n),
  Neutral: (n) => tn('neutral tone in {n} comment', 'neutral tone in {n} comments', n),
};
// `themed`: one theme along the journey (GET /api/v1/themes/journey), when one is chosen.
const journey = { data: null, themed: null };

export const journeyWindow = () => document.querySelector('input[name="journey-window"]:checked')?.value ?? 'today';
/** The theme the journey is viewed by ('' for none). */
export const journeyTheme = () => $('journey-theme')?.value ?? '';
// Themes are counted by the hour: "last hour" shows them for today.
export const journeyThemePeriod = () => (journeyWindow() === 'hour' ? 'today' : journeyWindow());

/** The themes the journey can be viewed by (the taxonomy's ids), named in the reader's language. */
export function offerJourneyThemes(ids) {
  const select = $('journey-theme');
  const chosen = select.value;
  select.replaceChildren(select.options[0], ...ids.map((id) => Object.assign(el('option', null, themeName(id)), { value: id, selected: id === chosen })));
}

/** One theme at each touchpoint, for the theme and period shown; null: none chosen. */
export function applyThemeJourney(data) {
  if (data && (data.theme !== journeyTheme() || data.period !== journeyThemePeriod())) return;
  journey.themed = data;
  if (journey.data) render();
}
const label = (tp) => tp.replace(/-/g, ' ');

/** The touchpoints of the last journey shown, in order. */
export const journeyTouchpoints = () => (journey.data?.steps ?? []).map((s) => s.touchpoint);

export function applyJourney(data) {
  if (!data || !Array.isArray(data.steps) || timeOf(data.as_of) < timeOf(journey.data?.as_of)) return;
  if (data.window !== journeyWindow()) return; // an answer for a period no longer chosen
  journey.data = data;
  render();
}

export function resetJourney(text = t('Loading the journey…')) {
  journey.data = null;
  $('corridor').replaceChildren();
  $('journey-steps').replaceChildren();
  $('journey-empty').hidden = false;
  $('journey-empty').textContent = text;
  setTime($('journey-as-of'), '');
}

function render() {
  const { steps, as_of: asOf } = journey.data;
  setTime($('journey-as-of'), asOf);
  const answered = steps.filter((s) => count(s.figures?.responses));
  $('journey-empty').hidden = answered.length > 0;
  $('journey-empty').textContent = t(NONE[journeyWindow()] ?? NONE.today);
  const weakest = weakestStep(steps);
  $('corridor').replaceChildren(...steps.map((s, i) => stop(s, i, s === weakest)));
  $('journey-steps').replaceChildren(...steps.map((s) => detail(s, s === weakest)));
}

/** The chosen theme at a touchpoint: how many of its comments name it, how, and at what cost. */
function themedLine(touchpoint) {
  const themed = journey.themed;
  if (!themed) return null;
  const name = themeName(themed.theme);
  const step = themed.steps?.find((s) => s.touchpoint === touchpoint);
  const f = step?.figures;
  if (!f || !count(f.mentions)) return el('p', 'step-theme', t('{theme}: not named here', { theme: name }));
  const parts = [tn('{n} comment', '{n} comments', count(f.mentions))];
  if (num(f.share) != null) parts[0] += ` (${formatPercent(f.share / 100)})`;
  if (count(f.negative)) parts.push(tn('{n} negative', '{n} negative', count(f.negative)));
  if (num(f.nps_impact) != null && count(f.nps_responses)) {
    const points = f.nps_impact > 0 ? `+${formatNumber(f.nps_impact, 1)}` : formatNumber(f.nps_impact, 1);
    parts.push(t('NPS impact {points} pts', { points }));
  }
  const line = el('p', 'step-theme', `${name}: ${parts.join(' · ')}`);
  line.dataset.tone = count(f.negative) * 2 > count(f.mentions) ? 'negative' : 'other';
  return line;
}

/** The step with the lowest NPS among those with enough answers to mean something. */
function weakestStep(steps) {
  const judged = steps.filter((s) => num(s.figures?.nps) != null && count(s.figures.nps_responses) >= SMALL_SAMPLE);
  const worst = judged.reduce((a, b) => (a && a.figures.nps <= b.figures.nps ? a : b), null);
  return worst && worst.figures.nps < 30 ? worst : null;
}

function toneWord(figures) {
  return count(figures.sentiment_responses) ? toneOf(figures.sentiment_mean) : null;
}

function stop(step, index, weakest) {
  const f = step.figures ?? {};
  const li = el('li', 'stop');
  li.dataset.touchpoint = step.touchpoint;
  li.dataset.band = npsBand(f.nps);
  li.classList.toggle('weakest', weakest);
  const tone = toneWord(f);
  li.dataset.tone = tone ? tone.toLowerCase() : 'none';
  li.append(
    el('span', 'stop-step', `${index + 1}`),
    el('span', 'stop-name', label(step.touchpoint)),
    el('span', 'stop-nps', npsText(f.nps, true)),
    el('span', 'stop-n', count(f.nps_responses) ? sampleSize(count(f.nps_responses)) : t('no answers')),
  );
  li.title = t('{touchpoint}: NPS {nps}', { touchpoint: label(step.touchpoint), nps: npsText(f.nps, true) });
  return li;
}

function detail(step, weakest) {
  const f = step.figures ?? {};
  const li = el('li', 'step');
  li.dataset.touchpoint = step.touchpoint;
  li.dataset.band = npsBand(f.nps);
  const head = el('p', 'step-head');
  head.append(el('span', 'step-name', label(step.touchpoint)), el('span', 'step-nps', `NPS ${npsText(f.nps, true)}`));
  const facts = [];
  const n = count(f.nps_responses);
  facts.push(n ? tn('{n} NPS answer', '{n} NPS answers', n) : t('no NPS answers'));
  if (n && n < SMALL_SAMPLE) facts.push(t('small sample'));
  const tone = toneWord(f);
  if (tone) facts.push(TONE_IN[tone](count(f.sentiment_responses)));
  if (count(f.flagged)) facts.push(tn('{n} to call back', '{n} to call back', count(f.flagged)));
  li.append(head, el('p', 'step-facts', facts.join(' · ')));
  if (weakest) li.append(el('p', 'step-weakest', t('The corridor breaks here: the lowest NPS of the journey.')));
  const themed = themedLine(step.touchpoint);
  if (themed) li.append(themed);
  return li;
}

/** `onWindow(window)`: the period changed (fetch the journey for it); `onTheme(theme)`: the theme
 * it is viewed by changed ('' for none). */
export function initJourney({ onWindow, onTheme }) {
  $('journey-window').addEventListener('change', () => onWindow(journeyWindow()));
  $('journey-theme').addEventListener('change', () => {
    journey.themed = null;
    if (journey.data) render();
    onTheme(journeyTheme());
  });
  resetJourney();
}
