// Synthetic CHT-like data set for replicate.mjs.
// usage: node gen-records.mjs [out.jsonl] [households] [residents] [visits]
// defaults: /tmp/pouch-records.jsonl 500 1200 5000 (6,700 docs, a few hundred bytes each,
// with Chinese text fields). Deterministic (fixed PRNG seed).
import { writeFileSync } from 'node:fs';

const [out = '/tmp/pouch-records.jsonl', nh = '500', nr = '1200', nv = '5000'] = process.argv.slice(2);
const H = Number(nh), R = Number(nr), V = Number(nv);

let seed = 20240601;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

const surnames = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭'];
const given = ['伟', '芳', '娜', '秀英', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀兰', '霞'];
const villages = ['东风村', '红星村', '新华村', '向阳村', '光明村', '和平村', '胜利村', '团结村'];
const roads = ['人民路', '建设路', '中山路', '解放路', '胜利街', '文化街'];
const symptoms = ['发热三天，伴有咳嗽', '血压偏高，需要复查', '孕期检查正常', '儿童疫苗接种已完成', '腹泻两天，已补液', '关节疼痛，建议休息', '血糖控制良好', '体重下降，建议营养咨询'];
const advice = ['按时服药，一周后随访。', '注意饮食清淡，多喝水。', '如症状加重请立即就医。', '已转诊至乡镇卫生院。', '下次随访时复测血压。'];
const name = () => pick(surnames) + pick(given);
const date = (y0) => `${int(y0, 2025)}-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`;

const lines = [];
const households = [];
for (let i = 0; i < H; i++) {
  const id = `household-${String(i).padStart(5, '0')}`;
  households.push(id);
  lines.push({
    id, type: 'household', name: `${name()}家`,
    address: `${pick(villages)}${pick(roads)}${int(1, 300)}号`,
    phone: `13${int(100000000, 999999999)}`,
    area: pick(villages), created: date(2018),
    notes: `户主常年在家务农，家庭成员${int(2, 7)}人，饮用水来源为自来水。`,
  });
}
const residents = [];
for (let i = 0; i < R; i++) {
  const id = `resident-${String(i).padStart(5, '0')}`;
  residents.push(id);
  lines.push({
    id, type: 'resident', household: households[i % H], name: name(),
    sex: pick(['男', '女']), birth_date: date(1940),
    phone: `15${int(100000000, 999999999)}`,
    conditions: [pick(symptoms)], notes: `既往病史：${pick(symptoms)}。${pick(advice)}`,
  });
}
for (let i = 0; i < V; i++) {
  const r = residents[int(0, R - 1)];
  lines.push({
    id: `visit-${String(i).padStart(6, '0')}`, type: 'visit', resident: r,
    household: households[Number(r.slice(9)) % H], visited_at: `${date(2023)}T${String(int(8, 17)).padStart(2, '0')}:00:00Z`,
    chw: name(), temperature: (36 + rnd() * 3).toFixed(1), bp: `${int(100, 160)}/${int(60, 100)}`,
    findings: pick(symptoms), advice: pick(advice), follow_up: date(2024),
    notes: `${pick(symptoms)}；${pick(advice)}家属表示理解并配合。`,
  });
}
writeFileSync(out, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
const bytes = lines.reduce((s, l) => s + Buffer.byteLength(JSON.stringify(l)), 0);
console.log(`wrote ${lines.length} records (${bytes} bytes of JSON, avg ${Math.round(bytes / lines.length)}) to ${out}`);
