import {Parser, Language} from 'web-tree-sitter';
import fs from 'fs'; import path from 'path';
import {createRequire} from 'module'; const require=createRequire('/work/main/package.json');
import {readSource, DEFAULT_READ_OPTIONS} from '/work/main/dist/src/files/read.js';
await Parser.init(); const lang=await Language.load(require.resolve('tree-sitter-c/tree-sitter-c.wasm'));
const p=new Parser(); p.setLanguage(lang);
const files=[]; const walk=d=>{for(const e of fs.readdirSync(d,{withFileTypes:true})){const f=path.join(d,e.name); if(e.isDirectory())walk(f); else if(/\.(c|h)$/.test(e.name))files.push(f);}};
for(const d of process.argv.slice(2))walk(d);
// find '= {' at depth 0, then check the brace region for literal-only content
function blank(t){
  let out=null; let depth=0; let i=0; const n=t.length; let saved=0;
  const litOnly=(s,e)=>{ // returns true if region has no identifiers outside strings/comments
    for(let k=s;k<e;k++){const c=t.charCodeAt(k);
      if(c===47&&t[k+1]==='*'){const j=t.indexOf('*/',k+2);if(j<0||j>=e)return false;k=j+1;continue;}
      if(c===47&&t[k+1]==='/'){const j=t.indexOf('\n',k);k=j;continue;}
      if(c===34||c===39){let j=k+1;while(j<e&&t.charCodeAt(j)!==c){if(t[j]==='\\')j++;if(t[j]==='\n')return false;j++;}k=j;continue;}
      if(c===35) return false; // preprocessor inside
      if((c>=65&&c<=90)||(c>=97&&c<=122)||c===95){ // identifier start: allowed only as part of number (0x, suffix)
        const prev=t.charCodeAt(k-1); if(!((prev>=48&&prev<=57)||(prev>=65&&prev<=90)||(prev>=97&&prev<=122))) return false; }
    } return true; };
  while(i<n){const c=t[i];
    if(c==='/'&&t[i+1]==='*'){const j=t.indexOf('*/',i+2);i=j<0?n:j+2;continue;}
    if(c==='/'&&t[i+1]==='/'){const j=t.indexOf('\n',i);i=j<0?n:j;continue;}
    if(c==='"'||c==="'"){let j=i+1;while(j<n&&t[j]!==c&&t[j]!=='\n'){if(t[j]==='\\')j++;j++;}i=j+1;continue;}
    if(c==='{'){ if(depth===0){ // check for '=' before
        let k=i-1; while(k>=0&&/\s/.test(t[k]))k--; 
        if(t[k]==='='){ // find matching
          let d=0,j=i; for(;j<n;j++){const cj=t[j]; if(cj==='{')d++; else if(cj==='}'){d--; if(d===0)break;} else if(cj==='"'||cj==="'"){let m=j+1;while(m<n&&t[m]!==cj&&t[m]!=='\n'){if(t[m]==='\\')m++;m++;}j=m;} else if(cj==='/'&&t[j+1]==='*'){const m=t.indexOf('*/',j+2);j=m<0?n:m+1;} }
          if(j<n && j-i>2048 && litOnly(i+1,j)){ saved+=j-i; out??=t.split(''); for(let m=i+1;m<j;m++) if(out[m]!=='\n') out[m]=' '; i=j+1; continue; }
        }
      } depth++; }
    else if(c==='}') depth--;
    i++;}
  return [out?out.join(''):t, saved];
}
let tot0=0,tot1=0,sv=0; const res=[];
for(const f of files){const r=readSource(f,DEFAULT_READ_OPTIONS); if(!r.ok)continue; const t=r.text; const [b,s]=blank(t); if(!s)continue; sv+=s;
 let a=performance.now(); p.parse(t).delete(); const ms0=performance.now()-a; a=performance.now(); p.parse(b).delete(); const ms1=performance.now()-a; tot0+=ms0; tot1+=ms1; res.push([ms0-ms1,s,f]);}
res.sort((a,b)=>b[0]-a[0]); for(const r of res.slice(0,25))console.log(r[0].toFixed(0).padStart(5),(r[1]/1e3).toFixed(0).padStart(5)+'KB',r[2]);
console.log('files',res.length,'bytes blanked',sv,'parse ms',tot0.toFixed(0),'->',tot1.toFixed(0));
