// Readable Chinese names for the live checks and a plan's quality report (never raw keys such as tiers.A.area_cv).
import { esc, table } from './core.js';

const NAMES = {
  grids: '网格数',
  blocks: '地块数',
  communities: '社区数',
  area_km2: '面积 (km²)',
  coverage: '覆盖率',
  coverage_ratio: '覆盖率',
  overlap_m2: '重叠面积 (m²)',
  overlaps_m2: '重叠面积 (m²)',
  overlaps: '重叠',
  gaps: '缝隙',
  gaps_m2: '缝隙面积 (m²)',
  gap_m2: '缝隙面积 (m²)',
  outside_m2: '辖区外面积 (m²)',
  outside_jurisdiction: '超出辖区',
  crossings: '跨社区',
  invalid: '无效几何',
  no_community: '无所属社区',
  max_diameter_m: '最大直径 (m)',
  diameter_limit_m: '直径上限 (m)',
  mean_area_km2: '平均面积 (km²)',
  area_cv: '面积离散系数',
  max_mean_ratio: '最大/平均面积比',
  polsby_popper_mean: '紧凑度 PP 均值',
  polsby_popper_min: '紧凑度 PP 最小值',
  reock_mean: '紧凑度 Reock 均值',
  within_15m_of_centerline: '边界在道路中心线 15 m 内',
  length_km: '内部边界长度 (km)',
  tier_source: '分级依据',
  metric_crs: '计算坐标系',
};
const SECTIONS = { tiers: '分级', internal_border: '内部边界', validation: '校验', summary: '', targets: null, timings_s: null, splits: null, import: null, tolerances: null };
const SHARE = new Set(['coverage', 'coverage_ratio', 'within_15m_of_centerline']);

function fmt(key, value) {
  if (typeof value === 'number') {
    if (SHARE.has(key)) return `${(value * 100).toFixed(2)}%`;
    return Number.isInteger(value) ? value.toLocaleString('zh-CN') : Number(value.toFixed(3)).toLocaleString('zh-CN');
  }
  if (typeof value === 'boolean') return value ? '是' : '否';
  if (Array.isArray(value)) return value.length > 4 ? `${value.length} 项` : value.join('，');
  return String(value);
}

/** [label, html] rows from a report object: known keys named in Chinese; unknown keys and bookkeeping skipped. */
export function reportRows(report, prefix = '', out = []) {
  for (const [key, value] of Object.entries(report || {})) {
    if (SECTIONS[key] === null || (Array.isArray(value) && value.some((v) => v && typeof v === 'object'))) continue;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const name = key in SECTIONS ? SECTIONS[key] : /^[ABC]$/.test(key) ? `${key} 级` : NAMES[key];
      if (name !== undefined) reportRows(value, name ? `${prefix}${name} · ` : prefix, out);
    } else if (NAMES[key]) {
      out.push([`${prefix}${NAMES[key]}`, esc(fmt(key, value))]);
    }
  }
  return out;
}

const warn = (bad, text) => (bad ? `<span class="bad">${text}</span>` : text);
const m2 = (v) => `${Math.round(v ?? 0).toLocaleString('zh-CN')} m²`;
const cv = (v) => (v == null ? '—' : v.toFixed(3));
const codes = (items, key = 'code') => items.slice(0, 6).map((i) => esc(i[key] ?? i)).join('，') + (items.length > 6 ? ' …' : '');

/** The live checks of a draft as a table of Chinese rows; problems in red. */
export function checksTable(c) {
  const rows = [
    ['网格数', String(c.grids)],
    ['覆盖率', c.coverage.ratio == null ? '未知（无辖区）' : warn(c.coverage.ratio < 0.9999, `${(c.coverage.ratio * 100).toFixed(3)}%`)],
    ['缝隙', warn(c.gaps.count > 0, `${c.gaps.count} 处，${m2(c.gaps.area_m2)}`)],
    ['重叠', warn(c.overlaps.count > 0, `${c.overlaps.count} 处，${m2(c.overlaps.area_m2)}`)],
    ['跨社区', warn(c.crossings.count > 0, c.crossings.count ? `${c.crossings.count} 个：${codes(c.crossings.items)}` : '无')],
    ['超出辖区', warn(c.outside_jurisdiction.count > 0, c.outside_jurisdiction.count ? `${c.outside_jurisdiction.count} 个：${codes(c.outside_jurisdiction.items)}` : '无')],
    ['最大直径', `${Math.round(c.diameter.max_m ?? 0)} m`],
    ['直径超限', warn(c.diameter.over_cap.length > 0, c.diameter.over_cap.length ? codes(c.diameter.over_cap) : '无')],
    ['面积离散系数', cv(c.size.area.cv)],
    ['最大/平均面积比', cv(c.size.area.max_mean_ratio)],
  ];
  for (const [tier, t] of Object.entries(c.size.tiers)) {
    const cap = t.cap_m ? ` / 上限 ${t.cap_m} m` : '';
    rows.push([`${tier} 级（${t.grids} 个）`, `面积离散系数 ${cv(t.area.cv)}，最大直径 ${Math.round(t.max_diameter_m)} m${cap}`]);
  }
  rows.push(['工作量离散系数', c.workload.cv == null ? '无案件数据' : `${cv(c.workload.cv)}（案件 ${c.workload.cases} 件）`]);
  rows.push(['不连通网格', warn(c.contiguity.split_grids.length > 0, c.contiguity.split_grids.length ? codes(c.contiguity.split_grids) : '无')]);
  rows.push(['发布阻碍', c.blocking.length ? `<span class="bad">${c.blocking.map(esc).join('；')}</span>` : '<span class="ok">无，可以发布</span>']);
  return table(rows);
}

export const OPS = { move: '移交地块', merge: '合并', split: '分割', recode: '重新编码', set: '修改属性', undo: '撤销', redo: '重做', copy: '复制', roads: '更新道路' };
