// Before publishing: the impact of the draft on open cases, people and unit assignments and routing entries; then
// publish with a note (the filing record, 备案) and read the plan's history.
import { $, enc, esc, getJSON, isDraft, planName, postJSON, state, status, table } from './core.js';
import { OPS } from './labels.js';
import { loadCollections } from './app.js';

const FATES = { kept: '保留', carried: '随迁', orphaned: '失去网格', conflict: '冲突（保留原码）' };

function list(items, line) {
  return items.length ? `<ul>${items.slice(0, 50).map((i) => `<li>${line(i)}</li>`).join('')}</ul>` : '<span class="hint">无</span>';
}

const listIf = (items, line) => (items.length ? list(items, line) : '');

function counts(byFate) {
  return Object.entries(byFate || {}).map(([k, v]) => `${esc(FATES[k] || k)} ${v}`).join('，') || '无';
}

async function showImpact() {
  const c = state.current;
  if (!isDraft(c)) return status('影响分析针对草案：先在“编辑”中复制或选择一个草案', true);
  try {
    const r = await getJSON(`v1/plans/${enc(planName(c))}/impact`);
    if (!r.against) {
      $('impact').innerHTML = '<p class="hint">该图层尚无已发布方案：发布不影响任何案件或人员。</p>';
      return;
    }
    const s = r.summary;
    const moved = (items) => items.filter((i) => i.fate !== 'kept');
    $('impact').innerHTML = table([
      ['对比', `${esc(r.against.name)} v${esc(r.against.version)} → ${esc(r.plan)}`],
      ['网格', Object.entries(r.grids || {}).map(([k, v]) => `${esc({ added: '新增', removed: '删除', reshaped: '调整', recoded: '改码', unchanged: '未变', attributes: '改属性' }[k] || k)} ${v}`).join('，')],
      [`在办案件（${s.cases}）`, list(r.cases, (x) => `案件 ${x.id}（${esc(x.category)}）：${esc(x.old_code ?? '—')} → <b>${esc(x.new_code ?? '辖区外')}</b>`)],
      ['人员', `${counts(s.people)}${listIf(moved(r.people), (p) => `${esc(p.person)}（${esc(p.role)}）${esc(p.grid_code)}：${esc(FATES[p.fate])}${p.to_code ? ` → ${esc(p.to_code)}` : ''}`)}`],
      ['责任单位', `${counts(s.units)}${listIf(moved(r.units), (u) => `${esc(u.unit)} ${esc(u.grid_code)}：${esc(FATES[u.fate])}${u.to_code && u.fate === 'carried' ? ` → ${esc(u.to_code)}` : ''}`)}`],
      [`路由规则（${s.routing_rules}）`, list(r.routing_rules, (u) => `${esc(u.unit)} 指向将消失的网格 ${esc(u.grid_code)}`)],
    ]);
    document.body.dataset.impact = String(s.cases);
  } catch (err) {
    $('impact').innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

async function publish() {
  const c = state.current;
  const note = $('publish-note').value.trim();
  if (!isDraft(c)) return status('只能发布草案', true);
  try {
    const r = await postJSON(`v1/plans/${enc(planName(c))}/publish`, { note });
    const f = r.filing;
    const carried = f.summary.carried;
    $('publish-result').innerHTML = `<p class="ok">已发布 ${esc(r.publication.plan)}（v${esc(r.publication.version)}）`
      + `${r.publication.retired ? `，停用 ${esc(r.publication.retired)}` : ''}</p>`
      + `<p>备案 #${f.id}：${esc(f.actor)}，${esc(f.at.slice(0, 19).replace('T', ' '))}。人员随迁 ${carried.people}，单位随迁 ${carried.units}，`
      + `在办案件获得新网格 ${f.summary.cases_linked}</p>`;
    document.body.dataset.published = r.publication.plan;
    await loadCollections(`plan.${r.publication.plan}`);
  } catch (err) {
    $('publish-result').innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

export async function showHistory(c) {
  if (!c || !state.key) {
    $('history').innerHTML = '<p class="hint">需要规划员密钥</p>';
    return;
  }
  try {
    const h = await getJSON(`v1/plans/${enc(planName(c))}/history`);
    const filings = h.filings.map((f) => `<li><b>${esc(f.at.slice(0, 16).replace('T', ' '))}</b> ${esc(f.actor)}：${esc(f.note)}`
      + `${f.previous_plan ? `（替代 ${esc(f.previous_plan)}）` : ''}</li>`).join('');
    const edits = h.edits.slice(0, 12).map((e) => `<li>#${e.seq} ${esc(OPS[e.op] || e.op)} · ${esc(e.actor)} · ${esc(e.created_at.slice(0, 16).replace('T', ' '))}</li>`).join('');
    $('history').innerHTML = table([
      ['方案', `${esc(h.plan.name)} v${esc(h.plan.version)}${h.plan.copied_from ? `（复制自 ${esc(h.plan.copied_from)}）` : ''}`],
      ['备案', filings ? `<ul>${filings}</ul>` : '<span class="hint">尚无</span>'],
      ['编辑', edits ? `<ul>${edits}</ul>` : '<span class="hint">尚无</span>'],
    ]);
  } catch (err) {
    $('history').innerHTML = `<p class="hint">${esc(err.message)}</p>`;
  }
}

export function initPublish() {
  $('impact-go').addEventListener('click', showImpact);
  $('publish-go').addEventListener('click', publish);
  document.addEventListener('tab', (e) => { if (e.detail === 'publish') showHistory(state.current); });
}
