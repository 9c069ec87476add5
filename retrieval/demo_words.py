"""Word lists for the demo catalog and its people: attribute phrases, colours, selling lines, names.

Pure data in English and Chinese, written for this project (no third-party text). Knows nothing about
randomness or records; demo_catalog and demo_people pick from these lists.
"""
from __future__ import annotations

COLOR_ZH = {
    "Black": "黑色", "White": "白色", "Blue": "蓝色", "Grey": "灰色", "Silver": "银色", "Navy": "藏青色",
    "Green": "绿色", "Red": "红色", "Pink": "粉色", "Orange": "橙色", "Beige": "米色", "Purple": "紫色",
}
MATERIAL_ZH = {
    "mesh": "网面", "knit": "针织", "synthetic": "合成革", "polyester": "涤纶", "nylon": "尼龙", "canvas": "帆布",
    "aluminium": "铝合金", "stainless steel": "不锈钢", "100% cotton": "纯棉", "velvet": "天鹅绒", "cotton": "棉质",
}
SKIN_EN = {"oily": "oily skin", "dry": "dry skin", "combination": "combination skin", "sensitive": "sensitive skin",
           "all": "all skin types"}
SKIN_ZH = {"oily": "适合油性肌肤", "dry": "适合干性肌肤", "combination": "适合混合性肌肤", "sensitive": "敏感肌可用",
           "all": "适合所有肤质"}
BED_ZH = {"Double": "双人床", "Queen": "1.8米床", "King": "2米大床"}

# attribute -> (English phrase, Chinese phrase): a format string over {v} or a function of the value
FEATURES = {
    "battery_hours": ("{v}-hour battery", "{v}小时续航"),
    "noise_cancelling": ("active noise cancellation", "主动降噪"),
    "bluetooth": ("Bluetooth {v}", "蓝牙{v}"),
    "water_resistance": ("{v} water resistance", "{v}级防水"),
    "weight_g": ("lightweight {v} g build", "仅重{v}克"),
    "ram_gb": ("{v}GB RAM", "{v}GB运行内存"),
    "storage_gb": ("{v}GB storage", "{v}GB存储"),
    "screen_in": ("{v}-inch screen", "{v}英寸屏幕"),
    "battery_mah": ("{v}mAh battery", "{v}mAh大电池"),
    "camera_mp": ("{v}MP camera", "{v}MP主摄"),
    "cpu": ("{v} processor", "{v}处理器"),
    "sizes": ("sizes {v}", "尺码{v}"),
    "waterproof": ("waterproof build", "防水设计"),
    "material": ("{v} material", lambda v: f"{MATERIAL_ZH.get(v, v)}材质"),
    "capacity_l": ("{v} L capacity", "{v}升容量"),
    "laptop_sleeve_in": ("a sleeve for laptops up to {v} inches", "可放{v}英寸笔记本"),
    "power_w": ("{v} W power", "{v}W功率"),
    "volume_ml": ("{v} ml", "{v}毫升"),
    "skin_type": (lambda v: f"a formula for {SKIN_EN[v]}", lambda v: SKIN_ZH[v]),
    "spf": ("SPF {v}", "SPF{v}"),
    "fragrance_free": ("no added fragrance", "无香精"),
    "battery_days": ("{v}-day battery", "{v}天续航"),
    "display": ("{v} display", "{v}屏幕"),
    "gps": ("built-in GPS", "内置GPS"),
    "wattage_w": ("{v}W fast charging", "{v}W快充"),
    "connector": ("{v} connector", "{v}接口"),
    "length_m": ("{v} m length", "长{v}米"),
    "capacity_mah": ("{v}mAh capacity", "{v}mAh容量"),
    "brightness_lm": ("{v} lumens brightness", "{v}流明亮度"),
    "bed_size": ("{v} size", lambda v: f"{BED_ZH[v]}尺寸"),
    "pieces": ("{v} pieces", "{v}件套"),
    "warranty_months": ("{v}-month warranty", "{v}个月保修"),
}

# category -> (English sentence, Chinese sentence) pairs; one is added to each description
SELLING_LINES = {
    "headphones": (("Built for long commutes and workouts.", "通勤、运动都适合。"),
                   ("Pairs quickly with phones and laptops.", "手机电脑都能快速连接。"),
                   ("Tuned for rich bass and clear calls.", "低音饱满，通话清晰。")),
    "phones": (("A capable everyday phone for work and play.", "日常工作娱乐都能胜任。"),
               ("Ships with a fast charger in the box.", "包装内附快充充电器。"),
               ("Designed to last a full day on one charge.", "一次充电用一整天。")),
    "laptops": (("Made for office work, classes and streaming.", "办公、上网课、追剧都合适。"),
                ("Backlit keyboard and a full-size trackpad.", "背光键盘，大尺寸触控板。"),
                ("Light enough to carry every day.", "轻便好携带，每天背着也不累。")),
    "running_shoes": (("Cushioned midsole for daily runs.", "中底缓震，适合日常跑步。"),
                      ("Breathable upper keeps feet cool.", "鞋面透气，不闷脚。"),
                      ("Grippy outsole for roads and tracks.", "大底防滑耐磨。")),
    "backpacks": (("Padded straps and plenty of pockets.", "肩带加厚，多隔层收纳。"),
                  ("Fits a day of work or a weekend trip.", "上班、周末出游都够用。"),
                  ("Has a hidden anti-theft pocket.", "背面有防盗口袋。")),
    "kitchen": (("Easy to clean and safe to use.", "清洗方便，使用安全。"),
                ("Saves time on everyday cooking.", "日常做饭省时省力。"),
                ("Comes with overheat protection.", "带过热保护。")),
    "skincare": (("Dermatologically tested.", "经皮肤科测试。"),
                 ("Light texture that absorbs quickly.", "质地轻薄，吸收快。"),
                 ("Suitable for daily use.", "适合每天使用。")),
    "smart_watches": (("Tracks steps, heart rate and sleep.", "支持计步、心率和睡眠监测。"),
                      ("Shows calls and app notifications.", "来电和消息提醒。"),
                      ("Over 100 sports modes.", "一百多种运动模式。")),
    "cables": (("Braided for durability.", "编织线身，更耐用。"),
               ("Works with most phones and tablets.", "兼容大多数手机和平板。"),
               ("Certified safe charging with surge protection.", "安全认证，防过充过压。")),
    "home": (("A simple upgrade for your home.", "让家更舒适的小物件。"),
             ("Easy to care for and long lasting.", "好打理，经久耐用。"),
             ("Makes a thoughtful gift.", "送礼也很合适。")),
}

FIRST_NAMES_EN = (
    "Aarav", "Vivaan", "Aditya", "Arjun", "Rohan", "Kabir", "Ishaan", "Rahul", "Vikram", "Siddharth", "Nikhil",
    "Karan", "Priya", "Ananya", "Diya", "Kavya", "Meera", "Neha", "Pooja", "Riya", "Sneha", "Tanvi", "Aisha",
    "Zara", "Sara", "Fatima", "Imran", "Joseph", "Maria", "Daniel", "Emma", "Liam", "Olivia", "Noah", "Anjali",
    "Deepak", "Suresh", "Lakshmi", "Gaurav", "Harpreet",
)
LAST_NAMES_EN = (
    "Sharma", "Verma", "Iyer", "Nair", "Reddy", "Patel", "Shah", "Mehta", "Gupta", "Singh", "Khan", "Das",
    "Bose", "Menon", "Kapoor", "Joshi", "Fernandes", "D'Souza", "Pillai", "Rao", "Chopra", "Kulkarni", "Smith",
    "Thomas",
)
SURNAMES_ZH = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "林", "郭", "何")
GIVEN_NAMES_ZH = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英",
    "晓东", "雪梅", "子涵", "欣怡", "浩然", "梓轩", "一诺", "思远", "佳怡", "俊杰",
)
