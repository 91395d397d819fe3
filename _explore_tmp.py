import sys, time
import sparksword_nb as s
from tests.conftest import spark43_log_path, spark43_cases
import pandas as pd
pd.set_option('display.width', 250); pd.set_option('display.max_columns', 50); pd.set_option('display.max_colwidth', 40); pd.set_option('display.max_rows', 500)
sess = s.Session()
cases = sys.argv[1:] or spark43_cases()
for c in cases:
    l = sess.load(spark43_log_path(c), cache=False)
    app = l.sql("select duration_ms, (select count(*) from executors) ex, (select sum(cores) from executors) cores from applications").fetchone()
    print('#####', c, 'duration', app)
    print(l.sql("""
    select s.stage_id sid, s.stage_attempt_id att, s.status, s.num_tasks nt, s.completed_ms - s.submitted_ms wall,
      s.executor_run_time_ms run, s.jvm_gc_time_ms gc,
      q.duration_ms_q[3] dmed, q.duration_ms_q[5] dmax, q.shuffle_read_bytes_q[3] srmed, q.shuffle_read_bytes_q[5] srmax,
      s.input_bytes inb, s.output_bytes outb, s.shuffle_write_bytes sw, s.memory_bytes_spilled mspill, s.disk_bytes_spilled dspill,
      s.num_failed_tasks nf, s.num_killed_tasks nk, s.parent_ids, left(s.name, 30) name
    from stages s left join stage_task_quantiles q using (stage_id, stage_attempt_id) order by 1,2""").df())
    print(l.sql("select execution_id, string_agg(node_name, ',' order by node_id) from sql_plan_nodes where node_name not in ('InputAdapter','WholeStageCodegen','Project') and node_name not like 'WholeStageCodegen%' group by 1 order by 1").fetchall())
